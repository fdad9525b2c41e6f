// Stream capture and CUDA graphs of the emulated runtime. A capture records the stream's operations
// (addresses and parameters as they were at capture time); a launch replays them in order on the
// launching stream, where each node is checked and counted like any operation.
#include <cuda_runtime_api.h>

#include <memory>

#include "emulated/cuda/graph.h"
#include "emulated/cuda/state.h"
#include "emulated/cuda/stream.h"

using trt_node::emulated::Enter;
using trt_node::emulated::FindStream;
using trt_node::emulated::GraphBody;
using trt_node::emulated::Operation;
using trt_node::emulated::OperationContext;
using trt_node::emulated::OperationPtr;
using trt_node::emulated::Runtime;

cudaError_t CUDARTAPI cudaStreamBeginCapture(cudaStream_t hStream, cudaStreamCaptureMode mode) {
  return Enter("cudaStreamBeginCapture", [&] {
    std::shared_ptr<CUstream_st> stream = FindStream(hStream);
    if (!stream) return cudaErrorInvalidResourceHandle;
    if (cudaError_t sticky = Runtime::Get().device(stream->device()).sticky(); sticky != cudaSuccess) return sticky;
    return stream->BeginCapture(mode);
  });
}

cudaError_t CUDARTAPI cudaStreamEndCapture(cudaStream_t hStream, cudaGraph_t* pGraph) {
  return Enter("cudaStreamEndCapture", [&] {
    if (pGraph == nullptr) return cudaErrorInvalidValue;
    *pGraph = nullptr;
    std::shared_ptr<CUstream_st> stream = FindStream(hStream);
    if (!stream) return cudaErrorInvalidResourceHandle;
    std::shared_ptr<GraphBody> body;
    const cudaError_t status = stream->EndCapture(&body);
    if (status != cudaSuccess) return status;
    *pGraph = trt_node::emulated::RegisterGraph(std::move(body));
    return cudaSuccess;
  });
}

cudaError_t CUDARTAPI cudaStreamIsCapturing(cudaStream_t hStream, cudaStreamCaptureStatus* pCaptureStatus) {
  return Enter("cudaStreamIsCapturing", [&] {
    if (pCaptureStatus == nullptr) return cudaErrorInvalidValue;
    std::shared_ptr<CUstream_st> stream = FindStream(hStream);
    if (!stream) return cudaErrorInvalidResourceHandle;
    *pCaptureStatus = stream->captureStatus();
    return cudaSuccess;
  });
}

cudaError_t CUDARTAPI cudaStreamGetCaptureInfo(cudaStream_t hStream, cudaStreamCaptureStatus* captureStatus_out,
                                               unsigned long long* id_out, cudaGraph_t* graph_out,
                                               const cudaGraphNode_t** dependencies_out,
                                               const cudaGraphEdgeData** edgeData_out, size_t* numDependencies_out) {
  return Enter("cudaStreamGetCaptureInfo", [&] {
    if (captureStatus_out == nullptr) return cudaErrorInvalidValue;
    std::shared_ptr<CUstream_st> stream = FindStream(hStream);
    if (!stream) return cudaErrorInvalidResourceHandle;
    *captureStatus_out = stream->captureStatus();
    if (id_out != nullptr) *id_out = stream->id();
    if (graph_out != nullptr) *graph_out = nullptr;  // graph nodes are not exposed by the emulation
    if (dependencies_out != nullptr) *dependencies_out = nullptr;
    if (edgeData_out != nullptr) *edgeData_out = nullptr;
    if (numDependencies_out != nullptr) *numDependencies_out = 0;
    return cudaSuccess;
  });
}

cudaError_t CUDARTAPI cudaGraphInstantiate(cudaGraphExec_t* pGraphExec, cudaGraph_t graph, unsigned long long flags) {
  return Enter("cudaGraphInstantiate", [&] {
    if (pGraphExec == nullptr) return cudaErrorInvalidValue;
    std::shared_ptr<const GraphBody> body = trt_node::emulated::FindGraph(graph);
    if (!body) return cudaErrorInvalidResourceHandle;
    // An executable graph is a snapshot: later changes to (or destruction of) the graph do not touch it.
    *pGraphExec = trt_node::emulated::RegisterGraphExec(std::make_shared<const GraphBody>(*body));
    return cudaSuccess;
  });
}

cudaError_t CUDARTAPI cudaGraphInstantiateWithFlags(cudaGraphExec_t* pGraphExec, cudaGraph_t graph,
                                                    unsigned long long flags) {
  return cudaGraphInstantiate(pGraphExec, graph, flags);
}

cudaError_t CUDARTAPI cudaGraphLaunch(cudaGraphExec_t graphExec, cudaStream_t hStream) {
  return Enter("cudaGraphLaunch", [&] {
    std::shared_ptr<const GraphBody> body = trt_node::emulated::FindGraphExec(graphExec);
    if (!body) return cudaErrorInvalidResourceHandle;
    std::shared_ptr<CUstream_st> stream = FindStream(hStream);
    if (!stream) return cudaErrorInvalidResourceHandle;
    if (cudaError_t sticky = Runtime::Get().device(stream->device()).sticky(); sticky != cudaSuccess) return sticky;
    if (stream->device() != body->device) return cudaErrorInvalidValue;
    std::vector<OperationPtr> operations;
    operations.reserve(body->nodes.size() + 1);
    auto launched = std::make_shared<Operation>();
    launched->name = "cudaGraphLaunch";
    launched->work = false;
    launched->run = [](const OperationContext& context) {
      Runtime::Get().device(context.device).graphLaunches.fetch_add(1);
      return cudaSuccess;
    };
    operations.push_back(std::move(launched));
    operations.insert(operations.end(), body->nodes.begin(), body->nodes.end());
    return stream->SubmitAll(operations);
  });
}

cudaError_t CUDARTAPI cudaGraphDestroy(cudaGraph_t graph) {
  return Enter("cudaGraphDestroy",
               [&] { return trt_node::emulated::DestroyGraph(graph) ? cudaSuccess : cudaErrorInvalidResourceHandle; });
}

cudaError_t CUDARTAPI cudaGraphExecDestroy(cudaGraphExec_t graphExec) {
  return Enter("cudaGraphExecDestroy", [&] {
    return trt_node::emulated::DestroyGraphExec(graphExec) ? cudaSuccess : cudaErrorInvalidResourceHandle;
  });
}
