#include "trt/loader/library_search.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.h"

namespace trt_node::trt {
namespace {

SearchEnvironment EmptyEnv() {
  SearchEnvironment env;
  env.multiarchTriplet = "x86_64-linux-gnu";
  return env;
}

std::vector<std::string> Paths(const std::vector<Candidate>& candidates) {
  std::vector<std::string> paths;
  for (const auto& candidate : candidates) paths.push_back(candidate.path);
  return paths;
}

size_t IndexOf(const std::vector<std::string>& paths, const std::string& path) {
  return static_cast<size_t>(std::find(paths.begin(), paths.end(), path) - paths.begin());
}

TEST(LibrarySearch, ExplicitFolderIsTheOnlyPlaceSearched) {
  LibraryRequest request;
  request.expectedMajor = 10;
  request.libraryPath = "/opt/custom";
  const auto candidates = SearchCandidates(request, EmptyEnv());
  ASSERT_EQ(candidates.size(), 2u);
  EXPECT_EQ(candidates[0].path, "/opt/custom/libnvinfer.so.10");
  EXPECT_EQ(candidates[1].path, "/opt/custom/libnvinfer.so.11");
  EXPECT_EQ(candidates[0].source, "libraryPath option");
}

TEST(LibrarySearch, ExplicitFileIsUsedAsGiven) {
  LibraryRequest request;
  request.libraryPath = "/x/libnvinfer.so.10.3.0";
  const auto candidates = SearchCandidates(request, EmptyEnv());
  ASSERT_EQ(candidates.size(), 1u);
  EXPECT_EQ(candidates[0].path, "/x/libnvinfer.so.10.3.0");
}

TEST(LibrarySearch, EnvironmentComesBeforeTheDynamicLinkerAndWellKnownFolders) {
  SearchEnvironment env = EmptyEnv();
  env.tensorrtLibDir = "/env/lib";
  env.tensorrtRoot = "/root/trt";
  LibraryRequest request;
  request.expectedMajor = 11;
  request.extraDirs = {"/py/site-packages/tensorrt_libs"};
  const auto paths = Paths(SearchCandidates(request, env));
  EXPECT_EQ(paths[0], "/env/lib/libnvinfer.so.11");
  EXPECT_EQ(paths[1], "/root/trt/lib/libnvinfer.so.11");
  EXPECT_EQ(paths[2], "libnvinfer.so.11");
  EXPECT_LT(IndexOf(paths, "libnvinfer.so.11"), IndexOf(paths, "/usr/lib/x86_64-linux-gnu/libnvinfer.so.11"));
  EXPECT_LT(IndexOf(paths, "/usr/lib/x86_64-linux-gnu/libnvinfer.so.11"),
            IndexOf(paths, "/py/site-packages/tensorrt_libs/libnvinfer.so.11"));
}

TEST(LibrarySearch, ExpectedMajorIsSearchedEverywhereBeforeOtherMajors) {
  LibraryRequest request;
  request.expectedMajor = 11;
  const auto candidates = SearchCandidates(request, EmptyEnv());
  const auto firstTen =
      std::find_if(candidates.begin(), candidates.end(), [](const Candidate& c) { return c.major == 10; });
  const auto lastEleven =
      std::find_if(candidates.rbegin(), candidates.rend(), [](const Candidate& c) { return c.major == 11; });
  ASSERT_NE(firstTen, candidates.end());
  EXPECT_LT(lastEleven.base() - candidates.begin(), firstTen - candidates.begin() + 1);
}

TEST(LibrarySearch, CandidatesAreUnique) {
  SearchEnvironment env = EmptyEnv();
  env.tensorrtLibDir = "/usr/lib/x86_64-linux-gnu";
  const auto paths = Paths(SearchCandidates(LibraryRequest{}, env));
  auto sorted = paths;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());
}

TEST(LibraryVersion, UnpacksTensorRTsPackedVersion) {
  EXPECT_EQ(LibraryVersion::FromPacked(100300).toString(), "10.3.0");
  EXPECT_EQ(LibraryVersion::FromPacked(101600).toString(), "10.16.0");
  EXPECT_EQ(LibraryVersion::FromPacked(110102).toString(), "11.1.2");
}

TEST(LibraryLoad, NothingFoundIsATypedErrorListingEveryAttempt) {
  LibraryRequest request;
  request.baseName = "libtensorrt_node_does_not_exist";
  request.expectedMajor = 10;
  try {
    Load(request, EmptyEnv());
    FAIL() << "expected a NativeError";
  } catch (const NativeError& error) {
    EXPECT_EQ(error.code(), "ERR_TENSORRT_NOT_FOUND");
    const std::string message = error.what();
    EXPECT_NE(message.find("libtensorrt_node_does_not_exist.so.10 [dynamic linker search"), std::string::npos);
    EXPECT_NE(message.find("/usr/lib/x86_64-linux-gnu/libtensorrt_node_does_not_exist.so.11"), std::string::npos);
  }
}

TEST(DynamicLinkerFolders, ListsLdLibraryPathFirst) {
  SearchEnvironment env = EmptyEnv();
  env.ldLibraryPath = "/a:/b::";
  const auto folders = DynamicLinkerFolders(env);
  ASSERT_GE(folders.size(), 3u);
  EXPECT_EQ(folders[0], "/a");
  EXPECT_EQ(folders[1], "/b");
}

}  // namespace
}  // namespace trt_node::trt

namespace trt_node::trt {
namespace {

LibraryRequest FakeRequest(const std::string& folder, int expectedMajor) {
  LibraryRequest request;
  request.libraryPath = std::string(TRT_NODE_FAKE_TRT_DIR) + "/" + folder;
  request.expectedMajor = expectedMajor;
  return request;
}

TEST(LibraryLoadWithFakeLibrary, LoadsAndReadsTheVersion) {
  const LoadedLibrary loaded = Load(FakeRequest("fake-trt-10", 10), SearchEnvironment{});
  EXPECT_EQ(loaded.version.toString(), "10.3.0");
  EXPECT_NE(loaded.candidate.path.find("fake-trt-10/libnvinfer.so.10"), std::string::npos);
}

TEST(LibraryLoadWithFakeLibrary, WrongMajorIsAVersionError) {
  try {
    Load(FakeRequest("fake-trt-mismatch", 11), SearchEnvironment{});
    FAIL() << "expected a NativeError";
  } catch (const NativeError& error) {
    EXPECT_EQ(error.code(), "ERR_TENSORRT_VERSION");
    EXPECT_NE(std::string(error.what()).find("TensorRT 10.16.0 (this addon was built for 11.x)"), std::string::npos);
  }
}

TEST(LibraryLoadWithFakeLibrary, MissingEntryPointIsASymbolError) {
  LibraryRequest request = FakeRequest("fake-trt-10", 10);
  request.requiredSymbols = {"getInferLibVersion", "createInferRuntime_INTERNAL"};
  try {
    Load(request, SearchEnvironment{});
    FAIL() << "expected a NativeError";
  } catch (const NativeError& error) {
    EXPECT_EQ(error.code(), "ERR_TENSORRT_SYMBOL");
    EXPECT_NE(std::string(error.what()).find("lacks the entry point createInferRuntime_INTERNAL"), std::string::npos);
  }
}

TEST(LibraryLoadWithFakeLibrary, AnyMajorIsAcceptedWhenNoneIsExpected) {
  const LoadedLibrary loaded = Load(FakeRequest("fake-trt-mismatch", 0), SearchEnvironment{});
  EXPECT_EQ(loaded.version.toString(), "10.16.0");
}

}  // namespace
}  // namespace trt_node::trt
