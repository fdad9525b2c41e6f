#include "napi/cuda_submit.h"

#include <utility>

namespace trt_node::napi {

std::shared_ptr<cuda::StreamExecutor> CreateStreamExecutor(Napi::Env env, int device, int priority) {
  std::shared_ptr<cuda::StreamExecutor> executor =
      ShareReleasedOffThread(env, std::make_unique<cuda::StreamExecutor>(device, priority));
  // Aliasing pointer: tracked for exactly as long as the executor lives.
  CompletionEnvironment::Get(env).Track(std::shared_ptr<SubmitQueue>(executor, &executor->queue()));
  return executor;
}

Napi::Promise SubmitToStream(Napi::Env env, const std::shared_ptr<cuda::StreamExecutor>& executor,
                             const char* resourceName, cuda::StreamExecutor::Enqueue enqueue, ResolveWith resolveWith,
                             const std::vector<Napi::Value>& keepAlive) {
  PromiseCompletion started =
      CompletionEnvironment::Get(env).Start(env, resourceName, std::move(resolveWith), keepAlive);
  try {
    executor->Submit(std::move(enqueue),
                     [completion = started.completion](std::exception_ptr error) { completion.Settle(error); });
  } catch (...) {
    started.completion.Cancel();
    throw;
  }
  return started.promise;
}

}  // namespace trt_node::napi
