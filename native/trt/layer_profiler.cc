#include "trt/layer_profiler.h"

#include <algorithm>
#include <numeric>

namespace trt_node::trt {

void LayerProfiler::reportLayerTime(char const* layerName, float ms) noexcept {
  try {
    const std::string name = layerName != nullptr ? layerName : "";
    auto found = index_.find(name);
    if (found == index_.end()) {
      found = index_.emplace(name, layers_.size()).first;
      layers_.push_back(Layer{name, 0, false, {}, 0});
      // A layer first seen after some iterations ran did not run in them.
      layers_.back().iterationMs.assign(iterations_, 0.0);
    }
    Layer& layer = layers_[found->second];
    layer.currentMs += ms;
    layer.reportedThisIteration = true;
    ++layer.calls;
  } catch (...) {
    // Never throw into TensorRT; a lost report only makes the profile slightly incomplete.
  }
}

void LayerProfiler::EndIteration() {
  for (Layer& layer : layers_) {
    layer.iterationMs.push_back(layer.reportedThisIteration ? layer.currentMs : 0.0);
    layer.currentMs = 0;
    layer.reportedThisIteration = false;
  }
  ++iterations_;
}

std::vector<LayerTime> LayerProfiler::Summary() const {
  std::vector<LayerTime> summary;
  double overall = 0;
  for (const Layer& layer : layers_) {
    LayerTime time;
    time.name = layer.name;
    time.calls = layer.calls;
    time.totalMs = std::accumulate(layer.iterationMs.begin(), layer.iterationMs.end(), 0.0);
    if (!layer.iterationMs.empty()) {
      time.averageMs = time.totalMs / static_cast<double>(layer.iterationMs.size());
      std::vector<double> sorted = layer.iterationMs;
      std::sort(sorted.begin(), sorted.end());
      const size_t middle = sorted.size() / 2;
      time.medianMs = sorted.size() % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
    overall += time.totalMs;
    summary.push_back(std::move(time));
  }
  for (LayerTime& time : summary) time.percentage = overall > 0 ? time.totalMs * 100.0 / overall : 0;
  return summary;
}

}  // namespace trt_node::trt
