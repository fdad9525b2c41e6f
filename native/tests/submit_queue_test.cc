#include "core/submit_queue.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/serial_thread.h"

namespace trt_node {
namespace {

using namespace std::chrono_literals;

// A host stand-in for "the GPU": a fence completes when the slowest work enqueued before it is due,
// and can be told to fail, like cudaEventSynchronize reporting an asynchronous error.
struct HostDevice {
  std::mutex mutex;
  std::chrono::steady_clock::time_point due = std::chrono::steady_clock::now();
  std::vector<int> enqueued;  // job ids in the order the submit thread enqueued them
  bool failNextFence = false;

  void Enqueue(int id, std::chrono::microseconds duration) {
    std::lock_guard<std::mutex> lock(mutex);
    enqueued.push_back(id);
    due = std::max(due, std::chrono::steady_clock::now() + duration);
  }
};

class HostFence final : public SubmitQueue::Fence {
 public:
  HostFence(std::chrono::steady_clock::time_point due, bool fail) : due_(due), fail_(fail) {}
  void Wait() override {
    std::this_thread::sleep_until(due_);
    if (fail_) throw NativeError("ERR_CUDA", "asynchronous failure");
  }

 private:
  std::chrono::steady_clock::time_point due_;
  bool fail_;
};

SubmitQueue::MakeFence FencesOf(HostDevice& device) {
  return [&device]() -> std::unique_ptr<SubmitQueue::Fence> {
    std::lock_guard<std::mutex> lock(device.mutex);
    const bool fail = device.failNextFence;
    device.failNextFence = false;
    return std::make_unique<HostFence>(device.due, fail);
  };
}

std::string ThreadName() {
  char name[32] = {0};
  pthread_getname_np(pthread_self(), name, sizeof(name));
  return name;
}

std::string CodeOf(std::exception_ptr error) {
  if (!error) return "";
  try {
    std::rethrow_exception(error);
  } catch (const NativeError& native) {
    return native.code();
  } catch (...) {
    return "other";
  }
}

TEST(SerialThread, RunsTasksInOrderAndRefusesThemAfterClose) {
  std::vector<int> ran;
  SerialThread thread("test-serial");
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(thread.Post([&ran, i] { ran.push_back(i); }));
  thread.Close();
  SerialThread::Task late = [] {};
  EXPECT_FALSE(thread.Post(std::move(late)));
  EXPECT_TRUE(static_cast<bool>(late)) << "a refused task stays with the caller";
  thread.Join();
  ASSERT_EQ(ran.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(ran[i], i);
}

TEST(SerialThread, ATaskThatThrowsDoesNotStopTheOnesBehindIt) {
  std::atomic<int> ran{0};
  SerialThread thread("test-throw");
  thread.Post([] { throw std::runtime_error("task failure"); });
  thread.Post([&ran] { ran++; });
  thread.Join();
  EXPECT_EQ(ran.load(), 1);
}

TEST(SubmitQueue, EnqueuesAndCompletesInSubmissionOrderOnItsOwnThreads) {
  HostDevice device;
  std::vector<int> done;
  std::mutex doneMutex;
  std::string submitThread;
  std::string completionThread;
  {
    SubmitQueue queue("unit", FencesOf(device));
    // Earlier jobs take longer: completion order must still follow submission order.
    for (int id = 0; id < 20; ++id) {
      queue.Submit(
          [&, id] {
            if (id == 0) submitThread = ThreadName();
            device.Enqueue(id, std::chrono::microseconds((20 - id) * 200));
          },
          [&, id](std::exception_ptr error) {
            EXPECT_FALSE(error);
            std::lock_guard<std::mutex> lock(doneMutex);
            if (id == 0) completionThread = ThreadName();
            done.push_back(id);
          });
    }
    queue.Shutdown();
    EXPECT_EQ(queue.inFlight(), 0u);
  }
  ASSERT_EQ(done.size(), 20u);
  for (int id = 0; id < 20; ++id) {
    EXPECT_EQ(device.enqueued[id], id);
    EXPECT_EQ(done[id], id);
  }
  EXPECT_EQ(submitThread, "unit-submit");
  EXPECT_EQ(completionThread, "unit-done");
}

TEST(SubmitQueue, SubmitNeverWaitsForTheWork) {
  HostDevice device;
  SubmitQueue queue("unit", FencesOf(device));
  std::promise<void> finished;
  const auto before = std::chrono::steady_clock::now();
  queue.Submit([&] { device.Enqueue(0, 200ms); }, [&](std::exception_ptr) { finished.set_value(); });
  EXPECT_LT(std::chrono::steady_clock::now() - before, 100ms);
  EXPECT_EQ(queue.inFlight(), 1u);
  finished.get_future().wait();
}

TEST(SubmitQueue, AFailedEnqueueIsReportedInOrderAfterWaitingForWhatItEnqueued) {
  HostDevice device;
  std::vector<std::string> outcomes;
  std::mutex mutex;
  std::chrono::steady_clock::time_point failureReported;
  const auto start = std::chrono::steady_clock::now();
  {
    SubmitQueue queue("unit", FencesOf(device));
    queue.Submit([&] { device.Enqueue(0, 50ms); },
                 [&](std::exception_ptr error) {
                   std::lock_guard<std::mutex> lock(mutex);
                   outcomes.push_back("0:" + CodeOf(error));
                 });
    queue.Submit(
        [&] {
          device.Enqueue(1, 100ms);  // part of the job reached the "GPU" before it failed
          throw NativeError("ERR_CUDA", "launch failed");
        },
        [&](std::exception_ptr error) {
          std::lock_guard<std::mutex> lock(mutex);
          failureReported = std::chrono::steady_clock::now();
          outcomes.push_back("1:" + CodeOf(error));
        });
    queue.Submit([&] { device.Enqueue(2, 0ms); },
                 [&](std::exception_ptr error) {
                   std::lock_guard<std::mutex> lock(mutex);
                   outcomes.push_back("2:" + CodeOf(error));
                 });
    queue.Shutdown();
  }
  EXPECT_EQ(outcomes, (std::vector<std::string>{"0:", "1:ERR_CUDA", "2:"}));
  EXPECT_GE(failureReported - start, 100ms) << "the failure must wait for the work it enqueued";
}

TEST(SubmitQueue, AsynchronousFailuresReachTheirJobOnly) {
  HostDevice device;
  std::vector<std::string> outcomes;
  {
    SubmitQueue queue("unit", FencesOf(device));
    queue.Submit(
        [&] {
          device.Enqueue(0, 1ms);
          device.failNextFence = true;
        },
        [&](std::exception_ptr error) { outcomes.push_back(CodeOf(error)); });
    queue.Submit([&] { device.Enqueue(1, 1ms); }, [&](std::exception_ptr error) { outcomes.push_back(CodeOf(error)); });
    queue.Shutdown();
  }
  EXPECT_EQ(outcomes, (std::vector<std::string>{"ERR_CUDA", ""}));
}

TEST(SubmitQueue, EveryAcceptedJobCompletesExactlyOnceEvenWhenClosedEarly) {
  HostDevice device;
  std::atomic<int> doneCalls{0};
  SubmitQueue queue("unit", FencesOf(device));
  for (int id = 0; id < 50; ++id) {
    queue.Submit([&, id] { device.Enqueue(id, 100us); }, [&](std::exception_ptr) { doneCalls++; });
  }
  queue.Close();  // returns at once; the 50 accepted jobs still run
  EXPECT_TRUE(queue.closed());
  try {
    queue.Submit([] {}, [&](std::exception_ptr) { doneCalls += 1000; });
    FAIL() << "expected ERR_DISPOSED";
  } catch (const NativeError& error) {
    EXPECT_EQ(error.code(), "ERR_DISPOSED");
    EXPECT_STREQ(error.what(), "The stream was disposed and accepts no more work");
  }
  queue.Shutdown();
  EXPECT_EQ(doneCalls.load(), 50);
  EXPECT_EQ(queue.inFlight(), 0u);
}

TEST(SubmitQueue, WhatAJobKeepsAliveIsReleasedBeforeItCountsAsFinished) {
  HostDevice device;
  auto buffer = std::make_shared<int>(42);
  std::weak_ptr<int> watch = buffer;
  SubmitQueue queue("unit", FencesOf(device));
  queue.Submit([&device, buffer] { device.Enqueue(0, 1ms); }, [buffer](std::exception_ptr) {});
  buffer.reset();
  while (queue.inFlight() != 0) std::this_thread::sleep_for(100us);
  EXPECT_TRUE(watch.expired());
}

// Issue 14, defect 1: what the enqueue lambda captures (buffers, TensorRT contexts) is used by the
// GPU until the fence completes, so it must live until `done` ran, not just until enqueue() returned.
TEST(SubmitQueue, WhatTheEnqueueCapturesLivesUntilTheJobIsDone) {
  HostDevice device;
  auto captured = std::make_shared<int>(7);
  std::weak_ptr<int> watch = captured;
  std::promise<void> enqueued;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> aliveAtFence{false};
  std::atomic<bool> aliveInDone{false};
  // The fence stands for the GPU: it completes only when the test says so.
  class GatedFence final : public SubmitQueue::Fence {
   public:
    GatedFence(std::shared_future<void> gate, std::weak_ptr<int> watch, std::atomic<bool>& alive)
        : gate_(std::move(gate)), watch_(std::move(watch)), alive_(alive) {}
    void Wait() override {
      gate_.wait();
      alive_ = !watch_.expired();
    }

   private:
    std::shared_future<void> gate_;
    std::weak_ptr<int> watch_;
    std::atomic<bool>& alive_;
  };
  SubmitQueue queue("unit", [&]() -> std::unique_ptr<SubmitQueue::Fence> {
    return std::make_unique<GatedFence>(released, watch, aliveAtFence);
  });
  queue.Submit([captured, &enqueued] { enqueued.set_value(); },
               [&aliveInDone, watch](std::exception_ptr) { aliveInDone = !watch.expired(); });
  captured.reset();
  enqueued.get_future().wait();
  std::this_thread::sleep_for(20ms);  // the submit thread is past enqueue(): the capture would be gone now
  EXPECT_FALSE(watch.expired()) << "the enqueue lambda's captures died while the GPU still worked";
  release.set_value();
  queue.Shutdown();
  EXPECT_TRUE(aliveAtFence.load());
  EXPECT_TRUE(aliveInDone.load());
  EXPECT_TRUE(watch.expired()) << "released once the job finished";
}

TEST(SubmitQueue, AFenceThatCannotBeMadeIsAnErrorOfThatJob) {
  std::vector<std::string> outcomes;
  {
    SubmitQueue queue(
        "unit", []() -> std::unique_ptr<SubmitQueue::Fence> { throw NativeError("ERR_CUDA_DRIVER", "no driver"); });
    queue.Submit([] {}, [&](std::exception_ptr error) { outcomes.push_back(CodeOf(error)); });
    queue.Shutdown();
  }
  EXPECT_EQ(outcomes, (std::vector<std::string>{"ERR_CUDA_DRIVER"}));
}

}  // namespace
}  // namespace trt_node
