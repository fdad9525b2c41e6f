// Per-layer times through TensorRT's IProfiler, summarized the way trtexec's --dumpProfile prints
// them (total, average and median per layer, share of the whole). The context attaches it for
// profileLayers() only: a profiler slows every enqueue down.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "trt/api.h"

namespace trt_node::trt {

struct LayerTime {
  std::string name;
  double totalMs = 0;
  double averageMs = 0;   // per iteration
  double medianMs = 0;    // of the per-iteration times
  double percentage = 0;  // of the sum over all layers
  size_t calls = 0;       // reports received (iterations x occurrences per iteration)
};

class LayerProfiler final : public nvinfer1::IProfiler {
 public:
  LayerProfiler() = default;
  LayerProfiler(const LayerProfiler&) = delete;
  LayerProfiler& operator=(const LayerProfiler&) = delete;

  // TensorRT calls this once per layer for every reported enqueue (reportToProfiler()).
  void reportLayerTime(char const* layerName, float ms) noexcept override;
  // Closes one iteration: layers reported several times within it count once, with their sum.
  void EndIteration();

  size_t iterations() const noexcept { return iterations_; }
  // Layers in the order TensorRT first reported them.
  std::vector<LayerTime> Summary() const;

 private:
  struct Layer {
    std::string name;
    double currentMs = 0;
    bool reportedThisIteration = false;
    std::vector<double> iterationMs;
    size_t calls = 0;
  };
  std::vector<Layer> layers_;
  std::unordered_map<std::string, size_t> index_;
  size_t iterations_ = 0;
};

}  // namespace trt_node::trt
