// The emulated CUDA device itself (native/emulated/cuda): that it behaves like the CUDA runtime in
// what tensorrt-node relies on (asynchrony, stream order, events, cross-stream waits, host functions,
// capture and replay, sticky errors) and that it catches what a GPU would punish (use after free).
// EMULATION, NOT A GPU: these tests prove the test double, not GPU behaviour.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "emulated/cuda/hooks.h"

namespace {

using namespace std::chrono_literals;

// Eight emulated devices for the whole binary: tests that poison a device (a sticky error lasts
// until the process exits, as on a GPU) each take one of their own (5, 6, 7).
class EightEmulatedDevices : public ::testing::Environment {
 public:
  void SetUp() override { ASSERT_EQ(trtnodeEmulatedSetDeviceCount(8), 0); }
};
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new EightEmulatedDevices);

// Holds a stream's worker until released: a host function that blocks.
struct Gate {
  std::atomic<bool> open{false};
  static void CUDART_CB Wait(void* self) {
    while (!static_cast<Gate*>(self)->open.load()) std::this_thread::sleep_for(1ms);
  }
};

cudaStream_t NewStream(int device) {
  EXPECT_EQ(cudaSetDevice(device), cudaSuccess);
  cudaStream_t stream = nullptr;
  EXPECT_EQ(cudaStreamCreateWithPriority(&stream, cudaStreamNonBlocking, 0), cudaSuccess);
  return stream;
}

TEST(EmulatedDevice, NamesItselfAsEmulationAndReportsNoGpuCapability) {
  cudaDeviceProp prop{};
  ASSERT_EQ(cudaGetDeviceProperties(&prop, 0), cudaSuccess);
  EXPECT_STREQ(prop.name, "tensorrt-node emulated device (no GPU)");
  EXPECT_EQ(prop.major, 0);
  EXPECT_EQ(prop.minor, 0);
  int count = 0;
  ASSERT_EQ(cudaGetDeviceCount(&count), cudaSuccess);
  EXPECT_EQ(count, 8);
  EXPECT_EQ(cudaGetDeviceProperties(&prop, 8), cudaErrorInvalidDevice);
}

TEST(EmulatedDevice, CopiesRunLaterOnTheStreamsWorkerInOrder) {
  cudaStream_t stream = NewStream(0);
  Gate gate;
  std::vector<int> source(1024, 7), destination(1024, 0);
  ASSERT_EQ(cudaLaunchHostFunc(stream, &Gate::Wait, &gate), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(destination.data(), source.data(), 4096, cudaMemcpyDefault, stream), cudaSuccess);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(destination[0], 0) << "the copy must wait behind the host function";
  EXPECT_EQ(cudaStreamQuery(stream), cudaErrorNotReady);
  gate.open = true;
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  EXPECT_EQ(destination[1023], 7);
  EXPECT_EQ(cudaStreamQuery(stream), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(stream), cudaErrorInvalidResourceHandle);
}

TEST(EmulatedDevice, EventsCompleteWhenTheStreamGetsThereAndOrderOtherStreams) {
  cudaStream_t producer = NewStream(1);
  cudaStream_t consumer = NewStream(1);
  cudaEvent_t event = nullptr;
  ASSERT_EQ(cudaEventCreateWithFlags(&event, cudaEventDisableTiming), cudaSuccess);
  EXPECT_EQ(cudaEventQuery(event), cudaSuccess) << "never recorded: complete";
  Gate gate;
  int* device = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&device), sizeof(int)), cudaSuccess);
  const int value = 42;
  int result = 0;
  ASSERT_EQ(cudaLaunchHostFunc(producer, &Gate::Wait, &gate), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(device, &value, sizeof(int), cudaMemcpyDefault, producer), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(event, producer), cudaSuccess);
  ASSERT_EQ(cudaStreamWaitEvent(consumer, event, 0), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(&result, device, sizeof(int), cudaMemcpyDefault, consumer), cudaSuccess);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(cudaEventQuery(event), cudaErrorNotReady);
  EXPECT_EQ(cudaStreamQuery(consumer), cudaErrorNotReady) << "the consumer waits for the producer's event";
  gate.open = true;
  ASSERT_EQ(cudaStreamSynchronize(consumer), cudaSuccess);
  EXPECT_EQ(result, 42);
  EXPECT_EQ(cudaEventQuery(event), cudaSuccess);
  cudaEventDestroy(event);
  cudaFree(device);
  cudaStreamDestroy(producer);
  cudaStreamDestroy(consumer);
}

TEST(EmulatedDevice, TimingEventsMeasureTheWorkBetweenThem) {
  cudaStream_t stream = NewStream(0);
  cudaEvent_t start = nullptr, end = nullptr, untimed = nullptr;
  ASSERT_EQ(cudaEventCreate(&start), cudaSuccess);
  ASSERT_EQ(cudaEventCreate(&end), cudaSuccess);
  ASSERT_EQ(cudaEventCreateWithFlags(&untimed, cudaEventDisableTiming), cudaSuccess);
  float ms = 0;
  EXPECT_EQ(cudaEventElapsedTime(&ms, start, end), cudaErrorInvalidResourceHandle) << "not recorded yet";
  ASSERT_EQ(cudaEventRecord(start, stream), cudaSuccess);
  ASSERT_EQ(cudaLaunchHostFunc(
                stream, [](void*) { std::this_thread::sleep_for(15ms); }, nullptr),
            cudaSuccess);
  ASSERT_EQ(cudaEventRecord(end, stream), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(untimed, stream), cudaSuccess);
  ASSERT_EQ(cudaEventSynchronize(end), cudaSuccess);
  ASSERT_EQ(cudaEventElapsedTime(&ms, start, end), cudaSuccess);
  EXPECT_GE(ms, 14.0f);
  EXPECT_EQ(cudaEventElapsedTime(&ms, start, untimed), cudaErrorInvalidResourceHandle);
  for (cudaEvent_t event : {start, end, untimed}) cudaEventDestroy(event);
  cudaStreamDestroy(stream);
}

TEST(EmulatedDevice, HostFunctionsMayNotCallCuda) {
  cudaStream_t stream = NewStream(0);
  std::atomic<int> status{-1};
  ASSERT_EQ(cudaLaunchHostFunc(
                stream,
                [](void* out) {
                  void* pointer = nullptr;
                  static_cast<std::atomic<int>*>(out)->store(cudaMalloc(&pointer, 16));
                },
                &status),
            cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  EXPECT_EQ(status.load(), cudaErrorNotPermitted);
  cudaStreamDestroy(stream);
}

TEST(EmulatedDevice, CaptureRecordsAndLaunchReplaysWithTheCapturedAddresses) {
  cudaStream_t stream = NewStream(2);
  int source = 5, destination = 0;
  std::atomic<int> calls{0};
  ASSERT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  ASSERT_EQ(cudaStreamIsCapturing(stream, &status), cudaSuccess);
  EXPECT_EQ(status, cudaStreamCaptureStatusActive);
  ASSERT_EQ(cudaMemcpyAsync(&destination, &source, sizeof(int), cudaMemcpyDefault, stream), cudaSuccess);
  ASSERT_EQ(cudaLaunchHostFunc(
                stream, [](void* counter) { static_cast<std::atomic<int>*>(counter)->fetch_add(1); }, &calls),
            cudaSuccess);
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamEndCapture(stream, &graph), cudaSuccess);
  ASSERT_NE(graph, nullptr);
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  EXPECT_EQ(destination, 0) << "captured work does not run";
  EXPECT_EQ(calls.load(), 0);
  cudaGraphExec_t exec = nullptr;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
  ASSERT_EQ(cudaGraphDestroy(graph), cudaSuccess);
  const int64_t launches = trtnodeEmulatedCounter("graphLaunches", 2);
  for (int replay = 1; replay <= 3; ++replay) {
    source = 10 * replay;  // the graph reads the captured address: it sees the new value
    ASSERT_EQ(cudaGraphLaunch(exec, stream), cudaSuccess);
    ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
    EXPECT_EQ(destination, 10 * replay);
  }
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(trtnodeEmulatedCounter("graphLaunches", 2) - launches, 3);
  EXPECT_EQ(cudaGraphExecDestroy(exec), cudaSuccess);
  EXPECT_EQ(cudaGraphExecDestroy(exec), cudaErrorInvalidResourceHandle);
  cudaStreamDestroy(stream);
}

TEST(EmulatedDevice, SynchronizingInsideACaptureInvalidatesIt) {
  cudaStream_t stream = NewStream(2);
  ASSERT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(stream), cudaErrorStreamCaptureUnsupported);
  void* pointer = nullptr;
  EXPECT_EQ(cudaMalloc(&pointer, 16), cudaErrorStreamCaptureUnsupported) << "cudaMalloc may synchronize";
  cudaGraph_t graph = nullptr;
  EXPECT_EQ(cudaStreamEndCapture(stream, &graph), cudaErrorStreamCaptureInvalidated);
  EXPECT_EQ(graph, nullptr);
  EXPECT_EQ(cudaGetLastError(), cudaErrorStreamCaptureInvalidated);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess) << "not sticky: cleared once read";
  ASSERT_EQ(cudaMalloc(&pointer, 16), cudaSuccess) << "the capture is over";
  cudaFree(pointer);
  cudaStreamDestroy(stream);
}

TEST(EmulatedDevice, MemoryKindsAreKnownAndFreedMemoryIsNot) {
  ASSERT_EQ(cudaSetDevice(3), cudaSuccess);
  void* device = nullptr;
  void* pinned = nullptr;
  ASSERT_EQ(cudaMalloc(&device, 100), cudaSuccess);
  ASSERT_EQ(cudaHostAlloc(&pinned, 100, cudaHostAllocPortable | cudaHostAllocMapped), cudaSuccess);
  int local = 0;
  cudaPointerAttributes attributes{};
  ASSERT_EQ(cudaPointerGetAttributes(&attributes, device), cudaSuccess);
  EXPECT_EQ(attributes.type, cudaMemoryTypeDevice);
  EXPECT_EQ(attributes.device, 3);
  ASSERT_EQ(cudaPointerGetAttributes(&attributes, static_cast<char*>(pinned) + 50), cudaSuccess);
  EXPECT_EQ(attributes.type, cudaMemoryTypeHost);
  ASSERT_EQ(cudaPointerGetAttributes(&attributes, &local), cudaSuccess);
  EXPECT_EQ(attributes.type, cudaMemoryTypeUnregistered);
  const int64_t live = trtnodeEmulatedCounter("liveDeviceAllocations", 3);
  ASSERT_EQ(cudaFree(device), cudaSuccess);
  EXPECT_EQ(trtnodeEmulatedCounter("liveDeviceAllocations", 3), live - 1);
  EXPECT_EQ(cudaFree(device), cudaErrorInvalidValue) << "double free";
  ASSERT_EQ(cudaPointerGetAttributes(&attributes, device), cudaSuccess);
  EXPECT_EQ(attributes.type, cudaMemoryTypeUnregistered);
  EXPECT_EQ(cudaMemcpy(device, &local, sizeof(local), cudaMemcpyDefault), cudaErrorInvalidValue);
  EXPECT_EQ(cudaFreeHost(pinned), cudaSuccess);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
}

// A GPU faults (cudaErrorIllegalAddress, sticky) when queued work reads memory that was freed in the
// meantime; cudaFreeAsync on stream A does not wait for stream B. The emulation catches it when B's
// copy runs, whatever the timing on the host.
TEST(EmulatedDevice, WorkOnAnotherStreamReadingMemoryFreedByCudaFreeAsyncIsAnIllegalAddress) {
  cudaStream_t allocating = NewStream(7);
  cudaStream_t reading = NewStream(7);
  void* buffer = nullptr;
  ASSERT_EQ(cudaMallocAsync(&buffer, 4096, allocating), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(allocating), cudaSuccess);
  std::vector<char> host(4096);
  Gate gate;
  ASSERT_EQ(cudaLaunchHostFunc(reading, &Gate::Wait, &gate), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(host.data(), buffer, 4096, cudaMemcpyDefault, reading), cudaSuccess);
  ASSERT_EQ(cudaFreeAsync(buffer, allocating), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(allocating), cudaSuccess);  // freed: the reader has not run yet
  gate.open = true;
  EXPECT_EQ(cudaStreamSynchronize(reading), cudaErrorIllegalAddress);
  EXPECT_EQ(trtnodeEmulatedCounter("memoryViolations", 7), 1);
  EXPECT_EQ(trtnodeEmulatedCounter("stickyError", 7), cudaErrorIllegalAddress);
  // Sticky: device 7 is unusable for the rest of the process, as a GPU would be.
  void* more = nullptr;
  EXPECT_EQ(cudaMalloc(&more, 16), cudaErrorIllegalAddress);
  EXPECT_EQ(cudaGetLastError(), cudaErrorIllegalAddress);
  EXPECT_EQ(cudaGetLastError(), cudaErrorIllegalAddress) << "sticky errors are never cleared";
  // Other devices are not affected.
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  EXPECT_EQ(cudaMalloc(&more, 16), cudaSuccess);
  cudaFree(more);
}

TEST(EmulatedDevice, InjectedFailuresHitTheNthOperationOnTheDevice) {
  cudaStream_t stream = NewStream(6);
  int source = 1, destination = 0;
  ASSERT_EQ(trtnodeEmulatedFailOperation(6, cudaErrorLaunchOutOfResources, 2), 0);
  cudaEvent_t first = nullptr, second = nullptr;
  ASSERT_EQ(cudaEventCreate(&first), cudaSuccess);
  ASSERT_EQ(cudaEventCreate(&second), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(&destination, &source, sizeof(int), cudaMemcpyDefault, stream), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(first, stream), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(&destination, &source, sizeof(int), cudaMemcpyDefault, stream), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(second, stream), cudaSuccess);
  EXPECT_EQ(cudaEventSynchronize(first), cudaSuccess);
  EXPECT_EQ(cudaEventSynchronize(second), cudaErrorLaunchOutOfResources) << "non-sticky: reported once";
  EXPECT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  // A sticky failure poisons the device.
  ASSERT_EQ(trtnodeEmulatedFailOperation(6, cudaErrorLaunchFailure, 1), 0);
  ASSERT_EQ(cudaMemcpyAsync(&destination, &source, sizeof(int), cudaMemcpyDefault, stream), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(stream), cudaErrorLaunchFailure);
  EXPECT_EQ(cudaEventQuery(second), cudaErrorLaunchFailure);
  EXPECT_EQ(cudaMemcpyAsync(&destination, &source, sizeof(int), cudaMemcpyDefault, stream), cudaErrorLaunchFailure);
}

TEST(EmulatedDevice, InjectedCallFailuresHitTheNthCall) {
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  ASSERT_EQ(trtnodeEmulatedFailCall("cudaMalloc", cudaErrorMemoryAllocation, 2), 0);
  void* first = nullptr;
  void* second = nullptr;
  EXPECT_EQ(cudaMalloc(&first, 16), cudaSuccess);
  EXPECT_EQ(cudaMalloc(&second, 16), cudaErrorMemoryAllocation);
  EXPECT_EQ(cudaGetLastError(), cudaErrorMemoryAllocation);
  EXPECT_EQ(cudaMalloc(&second, 16), cudaSuccess);
  cudaFree(first);
  cudaFree(second);
}

struct FillParams {
  int* out;
  int count;
  int value;
};

TEST(EmulatedDevice, KernelsRunOnTheWorkerAndTheirRangesAreChecked) {
  cudaStream_t stream = NewStream(1);
  int* device = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&device), 8 * sizeof(int)), cudaSuccess);
  FillParams params{device, 8, 9};
  const TrtnodeEmulatedAccess access{device, 8 * sizeof(int), 1};
  auto fill = [](const void* raw) {
    const auto& p = *static_cast<const FillParams*>(raw);
    for (int i = 0; i < p.count; ++i) p.out[i] = p.value;
  };
  ASSERT_EQ(trtnodeEmulatedLaunchKernel(stream, "Fill", fill, &params, sizeof(params), &access, 1), cudaSuccess);
  params.value = 0;  // arguments were copied at launch
  int host[8] = {0};
  ASSERT_EQ(cudaMemcpyAsync(host, device, sizeof(host), cudaMemcpyDefault, stream), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  EXPECT_EQ(host[7], 9);
  cudaFree(device);
  cudaStreamDestroy(stream);
}

TEST(EmulatedDevice, KernelsCannotReadPageableMemory) {
  cudaStream_t stream = NewStream(5);
  int pageable[4] = {0};
  FillParams params{pageable, 4, 1};
  const TrtnodeEmulatedAccess access{pageable, sizeof(pageable), 1};
  ASSERT_EQ(trtnodeEmulatedLaunchKernel(
                stream, "Fill", [](const void*) {}, &params, sizeof(params), &access, 1),
            cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(stream), cudaErrorIllegalAddress);
  EXPECT_EQ(trtnodeEmulatedCounter("memoryViolations", 5), 1);
}

}  // namespace
