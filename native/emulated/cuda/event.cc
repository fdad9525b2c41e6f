#include "emulated/cuda/event.h"

#include <map>

#include "emulated/cuda/state.h"

using trt_node::emulated::Runtime;

CUevent_st::CUevent_st(int device, unsigned flags) : device_(device), flags_(flags) {
  Runtime::Get().device(device_).liveEvents.fetch_add(1);
}

CUevent_st::~CUevent_st() { Runtime::Get().device(device_).liveEvents.fetch_sub(1); }

uint64_t CUevent_st::NextRecord() {
  std::lock_guard<std::mutex> lock(mutex_);
  return ++recorded_;
}

void CUevent_st::Complete(uint64_t generation, cudaError_t error) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // Records may complete out of order across streams; the event reflects the latest one.
    if (generation <= completedGeneration_) return;
    completedGeneration_ = generation;
    error_ = error;
    time_ = std::chrono::steady_clock::now();
  }
  completed_.notify_all();
}

uint64_t CUevent_st::recorded() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return recorded_;
}

cudaError_t CUevent_st::Query() const {
  if (cudaError_t sticky = Runtime::Get().device(device_).sticky(); sticky != cudaSuccess) return sticky;
  std::lock_guard<std::mutex> lock(mutex_);
  if (completedGeneration_ < recorded_) return cudaErrorNotReady;
  return error_;
}

cudaError_t CUevent_st::Wait(uint64_t generation) const {
  std::unique_lock<std::mutex> lock(mutex_);
  completed_.wait(lock, [&] { return completedGeneration_ >= generation; });
  const cudaError_t error = error_;
  lock.unlock();
  if (cudaError_t sticky = Runtime::Get().device(device_).sticky(); sticky != cudaSuccess) return sticky;
  return error;
}

bool CUevent_st::CompletedAt(std::chrono::steady_clock::time_point* time) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (recorded_ == 0 || completedGeneration_ < recorded_) return false;
  *time = time_;
  return true;
}

namespace trt_node::emulated {
namespace {

struct EventRegistry {
  std::mutex mutex;
  std::map<CUevent_st*, std::shared_ptr<CUevent_st>> events;
};

EventRegistry& Registry() {
  static EventRegistry* registry = new EventRegistry();
  return *registry;
}

}  // namespace

std::shared_ptr<CUevent_st> CreateEvent(int device, unsigned flags) {
  auto event = std::make_shared<CUevent_st>(device, flags);
  EventRegistry& registry = Registry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  registry.events[event.get()] = event;
  Runtime::Get().NoteResourceCreated();
  return event;
}

std::shared_ptr<CUevent_st> FindEvent(cudaEvent_t handle) {
  EventRegistry& registry = Registry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  auto found = registry.events.find(handle);
  return found == registry.events.end() ? nullptr : found->second;
}

bool DestroyEvent(cudaEvent_t handle) {
  std::shared_ptr<CUevent_st> event;  // released outside the lock; pending records keep their own reference
  EventRegistry& registry = Registry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  auto found = registry.events.find(handle);
  if (found == registry.events.end()) return false;
  event = std::move(found->second);
  registry.events.erase(found);
  return true;
}

}  // namespace trt_node::emulated
