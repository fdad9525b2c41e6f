#include "emulated/cuda/graph.h"

#include <map>
#include <mutex>

#include "emulated/cuda/state.h"

using trt_node::emulated::GraphBody;
using trt_node::emulated::Runtime;

CUgraph_st::CUgraph_st(std::shared_ptr<const GraphBody> graphBody) : body(std::move(graphBody)) {
  Runtime::Get().device(body->device).liveGraphs.fetch_add(1);
}
CUgraph_st::~CUgraph_st() { Runtime::Get().device(body->device).liveGraphs.fetch_sub(1); }

CUgraphExec_st::CUgraphExec_st(std::shared_ptr<const GraphBody> graphBody) : body(std::move(graphBody)) {
  Runtime::Get().device(body->device).liveGraphExecs.fetch_add(1);
}
CUgraphExec_st::~CUgraphExec_st() { Runtime::Get().device(body->device).liveGraphExecs.fetch_sub(1); }

namespace trt_node::emulated {
namespace {

// Handles own their objects; launched work holds the body, so destroying an executable graph whose
// launches are still queued is safe, as in CUDA.
template <typename Handle>
struct HandleRegistry {
  std::mutex mutex;
  std::map<Handle*, std::unique_ptr<Handle>> handles;

  Handle* Add(std::shared_ptr<const GraphBody> body) {
    auto handle = std::make_unique<Handle>(std::move(body));
    Handle* raw = handle.get();
    std::lock_guard<std::mutex> lock(mutex);
    handles[raw] = std::move(handle);
    return raw;
  }
  std::shared_ptr<const GraphBody> Find(Handle* raw) {
    std::lock_guard<std::mutex> lock(mutex);
    auto found = handles.find(raw);
    return found == handles.end() ? nullptr : found->second->body;
  }
  bool Remove(Handle* raw) {
    std::unique_ptr<Handle> removed;
    std::lock_guard<std::mutex> lock(mutex);
    auto found = handles.find(raw);
    if (found == handles.end()) return false;
    removed = std::move(found->second);
    handles.erase(found);
    return true;
  }
};

HandleRegistry<CUgraph_st>& Graphs() {
  static auto* registry = new HandleRegistry<CUgraph_st>();
  return *registry;
}

HandleRegistry<CUgraphExec_st>& GraphExecs() {
  static auto* registry = new HandleRegistry<CUgraphExec_st>();
  return *registry;
}

}  // namespace

cudaGraph_t RegisterGraph(std::shared_ptr<const GraphBody> body) { return Graphs().Add(std::move(body)); }
std::shared_ptr<const GraphBody> FindGraph(cudaGraph_t handle) { return Graphs().Find(handle); }
bool DestroyGraph(cudaGraph_t handle) { return Graphs().Remove(handle); }

cudaGraphExec_t RegisterGraphExec(std::shared_ptr<const GraphBody> body) { return GraphExecs().Add(std::move(body)); }
std::shared_ptr<const GraphBody> FindGraphExec(cudaGraphExec_t handle) { return GraphExecs().Find(handle); }
bool DestroyGraphExec(cudaGraphExec_t handle) { return GraphExecs().Remove(handle); }

}  // namespace trt_node::emulated
