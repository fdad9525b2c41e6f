// Emulated CUDA graphs: what a capture recorded (the operations with their addresses and parameters
// baked in), and instantiated copies of it that cudaGraphLaunch replays on a stream as one contiguous
// sequence. EMULATION, NOT A GPU (see hooks.h).
#pragma once

#include <cuda_runtime_api.h>

#include <memory>

#include "emulated/cuda/stream.h"

struct CUgraph_st {
  explicit CUgraph_st(std::shared_ptr<const trt_node::emulated::GraphBody> body);
  ~CUgraph_st();
  std::shared_ptr<const trt_node::emulated::GraphBody> body;
};

struct CUgraphExec_st {
  explicit CUgraphExec_st(std::shared_ptr<const trt_node::emulated::GraphBody> body);
  ~CUgraphExec_st();
  std::shared_ptr<const trt_node::emulated::GraphBody> body;
};

namespace trt_node::emulated {

cudaGraph_t RegisterGraph(std::shared_ptr<const GraphBody> body);
std::shared_ptr<const GraphBody> FindGraph(cudaGraph_t handle);
bool DestroyGraph(cudaGraph_t handle);

cudaGraphExec_t RegisterGraphExec(std::shared_ptr<const GraphBody> body);
std::shared_ptr<const GraphBody> FindGraphExec(cudaGraphExec_t handle);
bool DestroyGraphExec(cudaGraphExec_t handle);

}  // namespace trt_node::emulated
