// Protocol tests of native/trt over the FAKE TensorRT on the EMULATED device (no GPU, no real
// TensorRT): our real Engine, ExecutionContext and builder code drive the fake libnvinfer through
// the real loader, and the tests assert what they asked of it (the fake's call log) and the fake
// engine's exact results. They prove plumbing, lifetimes and protocol, never GPU numerics or speed.
#if TRT_NODE_EMULATED_TENSORRT
#include <cuda_runtime_api.h>
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "cuda/stream.h"
#include "emulated_trt_models.h"
#include "trt/builder.h"
#include "trt/engine.h"
#include "trt/execution_context.h"
#include "trt/library.h"

namespace trt_node::trt {
namespace {

namespace models = trt_node::testing;

const std::string kFakeDir = TRT_NODE_FAKE_TENSORRT_DIR;

struct FakeLog {
  size_t (*read)(char*, size_t) = nullptr;
  void (*clear)() = nullptr;
  int64_t (*violations)() = nullptr;
  int64_t (*live)(const char*) = nullptr;
};

std::shared_ptr<TensorRTLibrary> FakeLibrary() {
  LibraryOptions options;
  options.libraryPath = kFakeDir;
  return TensorRTLibrary::Get(options);
}

const FakeLog& Log() {
  static const FakeLog log = [] {
    FakeLibrary();  // loaded through the real loader first
    void* handle =
        dlopen((kFakeDir + "/libnvinfer.so." + std::to_string(NV_TENSORRT_MAJOR)).c_str(), RTLD_NOW | RTLD_NOLOAD);
    FakeLog found;
    if (handle == nullptr) return found;
    found.read = reinterpret_cast<size_t (*)(char*, size_t)>(dlsym(handle, "trt_node_fake_tensorrt_log"));
    found.clear = reinterpret_cast<void (*)()>(dlsym(handle, "trt_node_fake_tensorrt_clear_log"));
    found.violations = reinterpret_cast<int64_t (*)()>(dlsym(handle, "trt_node_fake_tensorrt_violations"));
    found.live = reinterpret_cast<int64_t (*)(const char*)>(dlsym(handle, "trt_node_fake_tensorrt_live"));
    return found;
  }();
  return log;
}

std::vector<std::string> LogLines() {
  std::string text(Log().read(nullptr, 0), '\0');
  Log().read(text.data(), text.size());
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Index of the first line from `from` that contains every fragment; lines.size() when none does.
size_t Find(const std::vector<std::string>& lines, const std::vector<std::string>& fragments, size_t from = 0) {
  for (size_t i = from; i < lines.size(); ++i) {
    bool all = true;
    for (const auto& fragment : fragments) all = all && lines[i].find(fragment) != std::string::npos;
    if (all) return i;
  }
  return lines.size();
}

size_t Count(const std::vector<std::string>& lines, const std::string& fragment) {
  size_t count = 0;
  for (const auto& line : lines) count += line.find(fragment) != std::string::npos ? 1 : 0;
  return count;
}

std::string Violations(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) {
    if (line.find(" VIOLATION ") != std::string::npos) text += line + "\n";
  }
  return text;
}

// The object name ("context#3") a line is about.
std::string ObjectOf(const std::string& line) {
  const size_t first = line.find(' ');
  const size_t second = line.find(' ', first + 1);
  return line.substr(first + 1, second - first - 1);
}

struct Output {
  std::vector<int64_t> shape;
  std::vector<char> bytes;
  template <typename T>
  std::vector<T> as() const {
    std::vector<T> values(bytes.size() / sizeof(T));
    if (!values.empty()) std::memcpy(values.data(), bytes.data(), values.size() * sizeof(T));
    return values;
  }
};

struct Feed {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<char> bytes;
};

template <typename T>
Feed MakeFeed(const std::string& name, std::vector<int64_t> shape, const std::vector<T>& values) {
  Feed feed{name, std::move(shape), std::vector<char>(values.size() * sizeof(T))};
  if (!values.empty()) std::memcpy(feed.bytes.data(), values.data(), feed.bytes.size());
  return feed;
}

std::vector<float> Affine(const std::vector<float>& x, float a = 2.0f, float b = 1.0f) {
  std::vector<float> y;
  for (float value : x) y.push_back(static_cast<float>(static_cast<float>(value * a) + b));
  return y;
}

std::vector<float> Sequence(size_t count, float start) {
  std::vector<float> values;
  for (size_t i = 0; i < count; ++i) values.push_back(start + 0.25f * static_cast<float>(i));
  return values;
}

class FakeTensorRT : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(Log().read, nullptr) << "the fake TensorRT's log functions were not found in " << kFakeDir;
    ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
    Log().clear();
    stream_ = std::make_shared<cuda::Stream>(0, 0);
    staging_ = cuda::StagingPool::Create(Inline());
    modelPath_ = (std::filesystem::temp_directory_path() /
                  ("trt-node-fake-" + std::to_string(getpid()) + "-" +
                   ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".onnx"))
                     .string();
  }
  void TearDown() override { std::filesystem::remove(modelPath_); }

  static cuda::ReleaseOffThreadFn Inline() {
    return [](std::function<void()> task) { task(); };
  }

  BuildResult Build(const models::ModelSpec& model, const BuildOptions& options = {},
                    std::function<void(const BuildProgressEvent&)> onProgress = nullptr) {
    models::WriteModel(model, modelPath_);
    return BuildFromOnnx(*FakeLibrary(), modelPath_, options, onProgress, [] { return false; });
  }

  static BuildOptions BatchProfiles(std::vector<std::pair<int64_t, int64_t>> ranges, const std::string& input = "x",
                                    int64_t width = 4) {
    BuildOptions options;
    for (const auto& [low, high] : ranges) {
      options.profiles.push_back({InputProfile{input, {low, width}, {high, width}, {high, width}, std::nullopt}});
    }
    return options;
  }

  std::shared_ptr<Engine> Load(const BuildResult& built) {
    return Engine::Deserialize(FakeLibrary(), built.plan.data(), built.plan.size(), DeserializeOptions{});
  }

  std::unique_ptr<ExecutionContext> NewContext(const std::shared_ptr<Engine>& engine, int profile = 0,
                                               GraphMode mode = GraphMode::kAuto) {
    ContextOptions options;
    options.profile = profile;
    options.graphMode = mode;
    return ExecutionContext::Create(engine, options, stream_, Inline());
  }

  // One run with plain host arrays in and fresh arrays out, waited for.
  std::map<std::string, Output> Run(ExecutionContext& context, const std::vector<Feed>& feeds,
                                    GraphUse* use = nullptr) {
    RunRequest request;
    request.staging = staging_->Take();
    const auto& tensors = context.tensors();
    for (size_t t = 0; t < tensors.size(); ++t) {
      if (tensors[t].isInput) {
        for (const Feed& feed : feeds) {
          if (feed.name != tensors[t].name) continue;
          InputFeed input;
          input.tensor = t;
          input.shape = feed.shape;
          input.source = InputFeed::Source::kHostArray;
          input.data = feed.bytes.data();
          input.bytes = feed.bytes.size();
          request.inputs.push_back(input);
        }
      } else {
        OutputTarget target;
        target.tensor = t;
        request.outputs.push_back(target);
      }
    }
    RunOutcome outcome;
    context.Enqueue(request, outcome);
    EXPECT_EQ(cudaStreamSynchronize(stream_->get()), cudaSuccess);
    if (use != nullptr) *use = outcome.graph;
    std::map<std::string, Output> outputs;
    for (const auto& output : outcome.outputs) {
      Output copy;
      copy.shape = output.shape;
      const auto* staged = static_cast<const char*>(output.staged);
      if (staged != nullptr) copy.bytes.assign(staged, staged + output.bytes);
      outputs[tensors[output.tensor].name] = std::move(copy);
    }
    return outputs;
  }

  std::shared_ptr<cuda::Stream> stream_;
  std::shared_ptr<cuda::StagingPool> staging_;
  std::string modelPath_;
};

TEST_F(FakeTensorRT, RunsTheRealContextCodeAndReturnsTheFakeEnginesExactResults) {
  auto engine = Load(Build(models::AffineModel(), BatchProfiles({{1, 8}})));
  auto context = NewContext(engine, 0, GraphMode::kOff);
  const std::vector<float> x = Sequence(12, -1.0f);
  auto outputs = Run(*context, {MakeFeed("x", {3, 4}, x)});
  EXPECT_EQ(outputs["y"].shape, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(outputs["y"].as<float>(), Affine(x));

  const auto lines = LogLines();
  EXPECT_EQ(Violations(lines), "");
  // The profile is selected before any input shape is set on the context.
  const size_t profile = Find(lines, {"setOptimizationProfileAsync 0"});
  ASSERT_LT(profile, lines.size());
  EXPECT_LT(profile, Find(lines, {"setInputShape x"}));
  // Every I/O address is set between the shapes and the enqueue.
  const size_t enqueue = Find(lines, {"enqueueV3 plain"});
  ASSERT_LT(enqueue, lines.size());
  EXPECT_LT(Find(lines, {"setTensorAddress x set"}), enqueue);
  EXPECT_LT(Find(lines, {"setTensorAddress y set"}), enqueue);
}

TEST_F(FakeTensorRT, CapturesRightAfterAPlainEnqueueWithTheSameBindingsThenReplays) {
  auto engine = Load(Build(models::AffineModel(), BatchProfiles({{1, 8}})));
  auto context = NewContext(engine);
  std::vector<GraphUse> uses;
  for (int run = 0; run < 4; ++run) {
    const std::vector<float> x = Sequence(8, static_cast<float>(run));  // fresh data every run
    GraphUse use;
    auto outputs = Run(*context, {MakeFeed("x", {2, 4}, x)}, &use);
    EXPECT_EQ(outputs["y"].as<float>(), Affine(x)) << "run " << run;
    uses.push_back(use);
  }
  EXPECT_EQ(uses,
            (std::vector<GraphUse>{GraphUse::kPlain, GraphUse::kCaptured, GraphUse::kReplayed, GraphUse::kReplayed}));
  const auto lines = LogLines();
  EXPECT_EQ(Violations(lines), "");
  const size_t capture = Find(lines, {"enqueueV3 capture"});
  ASSERT_LT(capture, lines.size());
  // The enqueue right before the capture, on the same context, is a plain one.
  const std::string captured = ObjectOf(lines[capture]);
  size_t before = capture;
  while (before-- > 0 &&
         !(ObjectOf(lines[before]) == captured && lines[before].find("enqueueV3") != std::string::npos)) {
  }
  ASSERT_LT(before, capture);
  EXPECT_NE(lines[before].find("enqueueV3 plain"), std::string::npos);
  const GraphStatus status = context->graphStatus();
  EXPECT_TRUE(status.active);
  EXPECT_EQ(status.captures, 1u);
  EXPECT_EQ(status.replays, 2u);
}

// Issue 14, defect 2. Before the fix, the graph captured at batch 2 was replayed after a plain
// enqueue at batch 3 had changed the context's shapes: the fake (like TensorRT on a GPU) then ran
// with the other shapes' device state, recorded a violation and left the outputs wrong.
TEST_F(FakeTensorRT, AlternatingShapesThroughGraphsGiveThePlainEnqueuesResults) {
  auto engine = Load(Build(models::AffineModel(), BatchProfiles({{1, 8}})));
  auto graphs = NewContext(engine, 0, GraphMode::kAuto);
  // A A (A is captured), then B A B A ...: each A after a B must not replay A's graph on a context
  // that ran at B.
  const std::vector<int64_t> batches = {2, 2, 3, 2, 3, 2, 3, 2, 3, 2};
  for (size_t run = 0; run < batches.size(); ++run) {
    const int64_t batch = batches[run];
    const std::vector<float> x = Sequence(static_cast<size_t>(batch * 4), static_cast<float>(run) * 10.0f);
    auto outputs = Run(*graphs, {MakeFeed("x", {batch, 4}, x)});
    EXPECT_EQ(outputs["y"].shape, (std::vector<int64_t>{batch, 4})) << "run " << run;
    EXPECT_EQ(outputs["y"].as<float>(), Affine(x)) << "run " << run << " (batch " << batch << ")";
  }
  EXPECT_EQ(Violations(LogLines()), "");
  const GraphStatus status = graphs->graphStatus();
  EXPECT_TRUE(status.active);
  EXPECT_EQ(status.captures, 2u);  // one graph per shape, each replayed after
  EXPECT_EQ(status.replays, 6u);
}

// Issue 14, defect 3. Before the fix, formats were read with the profile-less overloads and only a
// vectorized dimension was refused: kHWC (vectorized dimension -1) passed, and a format that only
// profile 1 uses was never seen.
TEST_F(FakeTensorRT, RefusesNonLinearFormatsOfTheContextsOwnProfile) {
  auto everyProfile = models::AffineModel();
  everyProfile.metadata["fake-tensorrt:format:y"] = "kHWC";
  auto engine = Load(Build(everyProfile, BatchProfiles({{1, 8}})));
  try {
    NewContext(engine);
    ADD_FAILURE() << "a kHWC output was accepted as row-major";
  } catch (const NativeError& error) {
    EXPECT_EQ(error.code(), "ERR_NOT_SUPPORTED");
    EXPECT_NE(std::string(error.what()).find("kHWC"), std::string::npos) << error.what();
  }

  auto secondProfile = models::AffineModel();
  secondProfile.metadata["fake-tensorrt:format:y"] = "1:kHWC";
  auto twoProfiles = Load(Build(secondProfile, BatchProfiles({{1, 4}, {5, 8}})));
  EXPECT_NO_THROW(NewContext(twoProfiles, 0));
  try {
    NewContext(twoProfiles, 1);
    ADD_FAILURE() << "profile 1's kHWC output was accepted";
  } catch (const NativeError& error) {
    EXPECT_EQ(error.code(), "ERR_NOT_SUPPORTED");
    EXPECT_NE(std::string(error.what()).find("profile 1"), std::string::npos) << error.what();
  }
  const auto lines = LogLines();
  EXPECT_EQ(Count(lines, "profile=none"), 0u) << "a profile-less format query was made";
  EXPECT_EQ(Violations(lines), "");
}

TEST_F(FakeTensorRT, ASecondProfileHasItsOwnBounds) {
  auto engine = Load(Build(models::AffineModel(), BatchProfiles({{1, 4}, {5, 8}})));
  auto context = NewContext(engine, 1);
  const std::vector<float> x = Sequence(24, 0.5f);
  EXPECT_EQ(Run(*context, {MakeFeed("x", {6, 4}, x)})["y"].as<float>(), Affine(x));
  try {
    Run(*context, {MakeFeed("x", {2, 4}, Sequence(8, 0))});
    ADD_FAILURE() << "batch 2 was accepted under profile 1 (5..8)";
  } catch (const NativeError& error) {
    EXPECT_EQ(error.code(), "ERR_SHAPE");
  }
  EXPECT_LT(Find(LogLines(), {"setOptimizationProfileAsync 1"}), Find(LogLines(), {"setInputShape x [6,4]"}));
}

TEST_F(FakeTensorRT, Float16InputsArriveAsTheirBitsAndAreCastOnTheEngine) {
  models::ModelSpec model;
  model.name = "fp16";
  model.inputs = {{"x", models::kFloat16, {std::string("batch"), int64_t{4}}}};
  model.outputs = {{"y", models::kFloat, {std::string("batch"), int64_t{4}}}};
  model.initializers = {{"a", {}, {2.0f}}, {"b", {}, {1.0f}}};
  model.nodes = {{"Cast", {"x"}, {"xf"}, models::kFloat}, {"Mul", {"xf", "a"}, {"xa"}}, {"Add", {"xa", "b"}, {"y"}}};
  auto engine = Load(Build(model, BatchProfiles({{1, 8}})));
  EXPECT_EQ(engine->metadata().tensors[0].dtype, "float16");
  auto context = NewContext(engine, 0, GraphMode::kOff);
  // 1.5, -2, 0.25, 1024 as IEEE half bits.
  const std::vector<uint16_t> x = {0x3e00, 0xc000, 0x3400, 0x6400};
  auto outputs = Run(*context, {MakeFeed("x", {1, 4}, x)});
  EXPECT_EQ(outputs["y"].as<float>(), (std::vector<float>{4.0f, -3.0f, 1.5f, 2049.0f}));
}

TEST_F(FakeTensorRT, DataDependentOutputsGoThroughAnAllocatorAndTurnGraphsOff) {
  auto engine = Load(Build(models::NonZeroModel()));
  auto context = NewContext(engine);
  const std::vector<float> x = {0, 1.5f, 0, -2, 3, 0, 0, 4};
  auto outputs = Run(*context, {MakeFeed("x", {2, 4}, x)});
  EXPECT_EQ(outputs["indices"].shape, (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(outputs["indices"].as<int64_t>(), (std::vector<int64_t>{0, 0, 1, 1, 1, 3, 0, 3}));
  EXPECT_EQ(outputs["y"].as<float>(), (std::vector<float>{0, 1.5f, 0, 0, 3, 0, 0, 4}));
  // A different count of non-zeros the next time: the allocator is asked again.
  auto second = Run(*context, {MakeFeed("x", {2, 4}, std::vector<float>{0, 0, 0, 0, 0, 0, 0, 9})});
  EXPECT_EQ(second["indices"].as<int64_t>(), (std::vector<int64_t>{1, 3}));

  const GraphStatus status = context->graphStatus();
  EXPECT_FALSE(status.active);
  EXPECT_NE(status.disabledReason.find("data-dependent"), std::string::npos) << status.disabledReason;
  const auto lines = LogLines();
  EXPECT_EQ(Violations(lines), "");
  EXPECT_EQ(Count(lines, "enqueueV3 capture"), 0u);
  const size_t enqueue = Find(lines, {"enqueueV3 plain"});
  EXPECT_LT(Find(lines, {"setOutputAllocator indices set"}), enqueue);
  EXPECT_LT(enqueue, Find(lines, {"notifyShape indices [2,4]"}));
}

TEST_F(FakeTensorRT, HostShapeTensorsAreBoundBeforeShapesAreInferredAndKeepGraphsOff) {
  BuildOptions options;
  options.profiles.push_back({InputProfile{"x", {1}, {6}, {16}, std::nullopt},
                              InputProfile{"shape", {2}, {2}, {2}, ShapeValues{{1, 1}, {2, 3}, {4, 4}}}});
  auto engine = Load(Build(models::ReshapeModel(), options));
  const auto metadata = engine->metadata();
  EXPECT_EQ(metadata.tensors[1].location, "host");
  EXPECT_TRUE(metadata.tensors[1].isShapeTensor);
  auto context = NewContext(engine);
  const std::vector<float> x = Sequence(6, 1.0f);
  auto outputs = Run(*context, {MakeFeed("x", {6}, x), MakeFeed("shape", {2}, std::vector<int64_t>{2, 3})});
  EXPECT_EQ(outputs["y"].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(outputs["y"].as<float>(), x);
  auto other = Run(*context, {MakeFeed("x", {6}, x), MakeFeed("shape", {2}, std::vector<int64_t>{3, 2})});
  EXPECT_EQ(other["y"].shape, (std::vector<int64_t>{3, 2}));

  const GraphStatus status = context->graphStatus();
  EXPECT_FALSE(status.active);
  EXPECT_NE(status.disabledReason.find("host"), std::string::npos) << status.disabledReason;
  const auto lines = LogLines();
  EXPECT_EQ(Violations(lines), "");
  EXPECT_LT(Find(lines, {"setTensorAddress shape set"}), Find(lines, {"getTensorShape y"}));
  EXPECT_NE(Find(lines, {"setShapeValues", "shape max [4,4]"}), lines.size());
}

// Issue 14, defect 8: TensorRT needs the values of shape-tensor inputs in every profile.
TEST_F(FakeTensorRT, AShapeTensorInputWithoutValuesIsRefusedBeforeTensorRTIsAsked) {
  BuildOptions options;
  options.profiles.push_back({InputProfile{"x", {1}, {6}, {16}, std::nullopt}});
  try {
    Build(models::ReshapeModel(), options);
    ADD_FAILURE() << "built without the shape tensor's values";
  } catch (const NativeError& error) {
    EXPECT_EQ(error.code(), "ERR_INVALID_ARGUMENT");
    EXPECT_NE(std::string(error.what()).find("\"shape\" is a shape tensor"), std::string::npos) << error.what();
  }
}

TEST_F(FakeTensorRT, ReleasesContextsBeforeEnginesBeforeRuntimesWithBalancedRecorderReferences) {
  {
    auto engine = Load(Build(models::AffineModel(), BatchProfiles({{1, 8}})));
    auto context = NewContext(engine);
    for (int run = 0; run < 3; ++run) Run(*context, {MakeFeed("x", {1, 4}, Sequence(4, 1.0f))});
    context.reset();
  }
  const auto lines = LogLines();
  EXPECT_EQ(Violations(lines), "");
  const size_t contexts = Find(lines, {"context#", " destroy "});
  const size_t engine = Find(lines, {"engine#", " destroy "});
  const size_t runtime = Find(lines, {"runtime#", " destroy "});
  ASSERT_LT(runtime, lines.size());
  EXPECT_LT(contexts, engine);
  EXPECT_LT(engine, runtime);
  EXPECT_EQ(Count(lines, "recorder.incRefCount"), Count(lines, "recorder.decRefCount"));
  EXPECT_GT(Count(lines, "recorder.incRefCount"), 0u);
  EXPECT_EQ(Log().live("context"), 0);
  EXPECT_EQ(Log().live("engine"), 0);
  EXPECT_EQ(Log().live("runtime"), 0);
}

// Issue 14, defect 8: one failed capture turned graphs off for good.
TEST_F(FakeTensorRT, RetriesAFailedCaptureBeforeGivingUp) {
  auto flaky = models::AffineModel();
  flaky.metadata["fake-tensorrt:fail-captures"] = "1";
  auto engine = Load(Build(flaky, BatchProfiles({{1, 8}})));
  auto context = NewContext(engine);
  std::vector<GraphUse> uses;
  for (int run = 0; run < 5; ++run) {
    const std::vector<float> x = Sequence(4, static_cast<float>(run));
    GraphUse use;
    EXPECT_EQ(Run(*context, {MakeFeed("x", {1, 4}, x)}, &use)["y"].as<float>(), Affine(x));
    uses.push_back(use);
  }
  // warm-up, refused capture (plain), capture, replays
  EXPECT_EQ(uses, (std::vector<GraphUse>{GraphUse::kPlain, GraphUse::kPlain, GraphUse::kCaptured, GraphUse::kReplayed,
                                         GraphUse::kReplayed}));
  EXPECT_TRUE(context->graphStatus().active);

  auto broken = models::AffineModel();
  broken.metadata["fake-tensorrt:fail-captures"] = "100";
  auto never = NewContext(Load(Build(broken, BatchProfiles({{1, 8}}))));
  for (int run = 0; run < 8; ++run) Run(*never, {MakeFeed("x", {1, 4}, Sequence(4, 0))});
  const GraphStatus status = never->graphStatus();
  EXPECT_FALSE(status.active);
  EXPECT_NE(status.disabledReason.find("3 captures in a row failed"), std::string::npos) << status.disabledReason;
  EXPECT_EQ(Violations(LogLines()), "");
}

// Issue 14, defect 8: setTimingCache's answer was ignored.
TEST_F(FakeTensorRT, ATimingCacheTensorRTRefusesIsReplacedByAFreshOne) {
  BuildOptions options = BatchProfiles({{1, 8}});
  const std::string foreign = "trt-node-fake-timing-cache 9.9.9 12\n";
  options.timingCache.assign(foreign.begin(), foreign.end());
  const BuildResult built = Build(models::AffineModel(), options);
  const std::string cache(built.timingCache.begin(), built.timingCache.end());
  EXPECT_EQ(cache.rfind("trt-node-fake-timing-cache " + std::to_string(NV_TENSORRT_MAJOR) + ".", 0), 0u) << cache;
  ASSERT_FALSE(built.warnings.empty());
  EXPECT_EQ(built.warnings.front().rfind("The timing cache could not be read", 0), 0u) << built.warnings.front();
  const auto lines = LogLines();
  EXPECT_LT(Find(lines, {"setTimingCache version=9.9.9"}),
            Find(lines, {"setTimingCache version=" + std::to_string(NV_TENSORRT_MAJOR)}));
}

// Issue 14, defect 8: messages TensorRT logs from its own threads were missing from ERR_BUILD.
TEST_F(FakeTensorRT, BuildErrorsLoggedOnTensorRTsOwnThreadsReachErrBuild) {
  auto failing = models::AffineModel();
  failing.metadata["fake-tensorrt:fail-build"] = "Could not find any implementation for node xa";
  try {
    Build(failing, BatchProfiles({{1, 8}}));
    ADD_FAILURE() << "the build succeeded";
  } catch (const NativeError& error) {
    EXPECT_EQ(error.code(), "ERR_BUILD");
    const auto& messages = error.tensorrtMessages();
    const bool found = std::any_of(messages.begin(), messages.end(), [](const std::string& message) {
      return message.find("Could not find any implementation for node xa") != std::string::npos;
    });
    EXPECT_TRUE(found) << "messages: " << ::testing::PrintToString(messages);
  }
}

// What cancel() (an AbortSignal) and the end of a worker's environment (issue 14, defect 4) rely on:
// a stop asked for from any thread ends the build at its next progress step.
TEST_F(FakeTensorRT, AStopRequestedAtAProgressStepEndsTheBuildWithErrAborted) {
  models::WriteModel(models::AffineModel(), modelPath_);
  std::atomic<int> steps{0};
  auto onProgress = [&steps](const BuildProgressEvent& event) {
    if (event.kind == BuildProgressEvent::Kind::kStep) ++steps;
  };
  try {
    BuildFromOnnx(*FakeLibrary(), modelPath_, BatchProfiles({{1, 8}}), onProgress, [&steps] { return steps >= 1; });
    ADD_FAILURE() << "the build ignored the stop";
  } catch (const NativeError& error) {
    EXPECT_EQ(error.code(), "ERR_ABORTED");
  }
  EXPECT_EQ(steps.load(), 1);
  EXPECT_NE(Find(LogLines(), {"build.cancelled", "step=0"}), LogLines().size());
}

// Issue 14, defect 7: models using standard plugins could not build (or load) at all.
TEST_F(FakeTensorRT, StandardPluginsAreInitializedForModelsThatUseThem) {
  auto model = models::AffineModel();
  model.outputs = {{"boxes", models::kFloat, {std::string("batch"), int64_t{4}}}};
  model.nodes.push_back({"EfficientNMS_TRT", {"y"}, {"boxes"}});
  auto engine = Load(Build(model, BatchProfiles({{1, 8}})));
  auto context = NewContext(engine);
  const std::vector<float> x = Sequence(4, 2.0f);
  EXPECT_EQ(Run(*context, {MakeFeed("x", {1, 4}, x)})["boxes"].as<float>(), Affine(x));  // the fake plugin: identity
  EXPECT_TRUE(FakeLibrary()->pluginStatus().loaded);
}

TEST_F(FakeTensorRT, ProfileLayersReportsEveryLayerThroughTheProfiler) {
  auto engine = Load(Build(models::AffineModel(), BatchProfiles({{1, 8}})));
  auto context = NewContext(engine);
  RunRequest request;
  request.staging = staging_->Take();
  const std::vector<float> x = Sequence(4, 0);
  InputFeed input;
  input.tensor = 0;
  input.shape = {1, 4};
  input.data = x.data();
  input.bytes = 16;
  request.inputs.push_back(input);
  OutputTarget target;
  target.tensor = 1;
  request.outputs.push_back(target);
  const auto layers = context->ProfileLayers(request, 3);
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0].name, "Mul_xa");
  EXPECT_EQ(layers[0].calls, 3u);
  const auto lines = LogLines();
  EXPECT_LT(Find(lines, {"setEnqueueEmitsProfile false"}), Find(lines, {"reportToProfiler"}));
  EXPECT_LT(Find(lines, {"reportToProfiler"}), Find(lines, {"setProfiler null"}));
}

}  // namespace
}  // namespace trt_node::trt
#endif  // TRT_NODE_EMULATED_TENSORRT
