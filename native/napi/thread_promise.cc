#include "napi/thread_promise.h"

#include <utility>

#include "napi/addon_data.h"

namespace trt_node::napi {

std::atomic<int64_t>& OwnThreadsRunning() {
  static std::atomic<int64_t> running{0};
  return running;
}

OwnThreads& OwnThreads::Get(Napi::Env env) {
  AddonData& data = AddonData::Get(env);
  if (data.ownThreads == nullptr) {
    data.ownThreads = new OwnThreads(env);
    // Registered before any thread-safe function of these threads exists: cleanup hooks run last
    // registered first, so this one runs after those were closed (a late BlockingCall then returns
    // napi_closing) and before node frees them (after the hooks), which is when joining is safe.
    napi_add_env_cleanup_hook(env, &OwnThreads::Teardown, data.ownThreads);
  }
  return *data.ownThreads;
}

void OwnThreads::Start(std::function<void()> body) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Join what already finished, so a long-lived environment does not pile up thread handles.
  for (auto it = threads_.begin(); it != threads_.end();) {
    if (it->finished->load()) {
      it->thread.join();
      it = threads_.erase(it);
    } else {
      ++it;
    }
  }
  auto finished = std::make_shared<std::atomic<bool>>(false);
  OwnThreadsRunning().fetch_add(1);
  try {
    std::thread thread([body = std::move(body), finished] {
      body();
      OwnThreadsRunning().fetch_sub(1);
      finished->store(true);
    });
    threads_.push_back(Entry{std::move(thread), std::move(finished)});
  } catch (...) {
    OwnThreadsRunning().fetch_sub(1);
    throw;
  }
}

void OwnThreads::Teardown(void* self) {
  auto* threads = static_cast<OwnThreads*>(self);
  threads->stop_->store(true);  // long work polls stopFlag() and gives up early
  std::list<Entry> joining;
  {
    std::lock_guard<std::mutex> lock(threads->mutex_);
    joining.swap(threads->threads_);
  }
  for (Entry& entry : joining) entry.thread.join();
  AddonData::Get(threads->env_).ownThreads = nullptr;
  delete threads;
}

}  // namespace trt_node::napi
