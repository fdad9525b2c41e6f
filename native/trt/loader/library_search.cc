#include "trt/loader/library_search.h"

#include <glob.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "core/error.h"

namespace trt_node::trt {
namespace {

std::string EnvOr(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

std::string Soname(const std::string& baseName, int major) { return baseName + ".so." + std::to_string(major); }

bool LooksLikeLibraryFile(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const std::string file = slash == std::string::npos ? path : path.substr(slash + 1);
  return file.find(".so") != std::string::npos;
}

std::string JoinPath(const std::string& folder, const std::string& file) {
  if (folder.empty() || folder.back() == '/') return folder + file;
  return folder + "/" + file;
}

std::vector<std::string> SplitColonList(const std::string& list) {
  std::vector<std::string> parts;
  std::stringstream stream(list);
  std::string part;
  while (std::getline(stream, part, ':')) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

std::vector<std::string> ExpandGlob(const std::string& pattern) {
  std::vector<std::string> matches;
  glob_t result{};
  if (glob(pattern.c_str(), GLOB_ONLYDIR, nullptr, &result) == 0) {
    for (size_t i = 0; i < result.gl_pathc; ++i) matches.emplace_back(result.gl_pathv[i]);
  }
  globfree(&result);
  std::sort(matches.rbegin(), matches.rend());  // newest-looking version first
  return matches;
}

std::vector<std::pair<std::string, std::string>> WellKnownFolders(const SearchEnvironment& env) {
  std::vector<std::pair<std::string, std::string>> folders;
  const std::string distro = "well-known location (Debian/Ubuntu packages)";
  const std::string tarball = "well-known location (tarball install)";
  if (!env.multiarchTriplet.empty()) folders.emplace_back("/usr/lib/" + env.multiarchTriplet, distro);
  folders.emplace_back("/usr/lib64", "well-known location (RPM packages)");
  folders.emplace_back("/usr/local/tensorrt/lib", tarball);
  folders.emplace_back("/usr/local/TensorRT/lib", tarball);
  for (const auto& dir : ExpandGlob("/usr/local/TensorRT-*/lib")) folders.emplace_back(dir, tarball);
  folders.emplace_back("/opt/tensorrt/lib", tarball);
  folders.emplace_back("/usr/local/cuda/lib64", "well-known location (CUDA toolkit folder)");
  return folders;
}

std::mutex& CacheMutex() {
  static std::mutex mutex;
  return mutex;
}

// Process-wide on purpose: the dynamic linker's state is process-wide, and TensorRT libraries are
// never unloaded while the process lives.
std::map<std::string, std::shared_ptr<SharedLibrary>>& LibraryCache() {
  static auto* cache = new std::map<std::string, std::shared_ptr<SharedLibrary>>();
  return *cache;
}

std::shared_ptr<SharedLibrary> OpenCached(const std::string& pathOrSoname, std::string& error) {
  std::lock_guard<std::mutex> lock(CacheMutex());
  auto& cache = LibraryCache();
  if (auto found = cache.find(pathOrSoname); found != cache.end()) return found->second;
  SharedLibrary library = SharedLibrary::Open(pathOrSoname, error);
  if (!library.isOpen()) return nullptr;
  auto shared = std::make_shared<SharedLibrary>(std::move(library));
  cache.emplace(pathOrSoname, shared);
  return shared;
}

}  // namespace

SearchEnvironment SearchEnvironment::FromProcess() {
  SearchEnvironment env;
  env.tensorrtLibDir = EnvOr("TENSORRT_LIB_DIR");
  env.tensorrtRoot = EnvOr("TENSORRT_ROOT");
  env.ldLibraryPath = EnvOr("LD_LIBRARY_PATH");
#if defined(__x86_64__)
  env.multiarchTriplet = "x86_64-linux-gnu";
#elif defined(__aarch64__)
  env.multiarchTriplet = "aarch64-linux-gnu";
#endif
  return env;
}

std::string LibraryVersion::toString() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

LibraryVersion LibraryVersion::FromPacked(long packed) {
  LibraryVersion version;
  version.major = static_cast<int>(packed / 10000);
  version.minor = static_cast<int>((packed / 100) % 100);
  version.patch = static_cast<int>(packed % 100);
  return version;
}

std::vector<Candidate> SearchCandidates(const LibraryRequest& request, const SearchEnvironment& env) {
  std::vector<int> majors;
  if (request.expectedMajor != 0) majors.push_back(request.expectedMajor);
  for (int major : request.probeMajors) {
    if (std::find(majors.begin(), majors.end(), major) == majors.end()) majors.push_back(major);
  }

  std::vector<Candidate> candidates;
  std::set<std::string> seen;
  auto add = [&](const std::string& path, const std::string& source, int major) {
    if (seen.insert(path).second) candidates.push_back(Candidate{path, source, major});
  };

  // An explicit path is a decision: search nothing else, so a user never silently gets another copy.
  if (!request.libraryPath.empty()) {
    if (LooksLikeLibraryFile(request.libraryPath)) {
      add(request.libraryPath, "libraryPath option", request.expectedMajor);
    } else {
      for (int major : majors)
        add(JoinPath(request.libraryPath, Soname(request.baseName, major)), "libraryPath option", major);
    }
    return candidates;
  }

  for (int major : majors) {
    const std::string soname = Soname(request.baseName, major);
    if (!env.tensorrtLibDir.empty()) add(JoinPath(env.tensorrtLibDir, soname), "TENSORRT_LIB_DIR", major);
    if (!env.tensorrtRoot.empty()) add(JoinPath(env.tensorrtRoot + "/lib", soname), "TENSORRT_ROOT", major);
    add(soname, "dynamic linker search (LD_LIBRARY_PATH, ld.so.cache, system folders)", major);
    for (const auto& [folder, source] : WellKnownFolders(env)) add(JoinPath(folder, soname), source, major);
    for (const auto& folder : request.extraDirs) add(JoinPath(folder, soname), "Python package (pip)", major);
  }
  return candidates;
}

std::vector<std::string> DynamicLinkerFolders(const SearchEnvironment& env) {
  std::vector<std::string> folders = SplitColonList(env.ldLibraryPath);
  folders.emplace_back("ld.so.cache (/etc/ld.so.conf.d)");
  if (!env.multiarchTriplet.empty()) {
    folders.push_back("/lib/" + env.multiarchTriplet);
    folders.push_back("/usr/lib/" + env.multiarchTriplet);
  }
  folders.emplace_back("/lib");
  folders.emplace_back("/usr/lib");
  return folders;
}

LoadOutcome TryLoad(const LibraryRequest& request, const SearchEnvironment& env) {
  LoadOutcome outcome;
  for (const Candidate& candidate : SearchCandidates(request, env)) {
    const bool bareSoname = candidate.path.find('/') == std::string::npos;
    Attempt attempt{candidate.path, candidate.source, "", AttemptStatus::kMissing};
    if (!bareSoname && access(candidate.path.c_str(), F_OK) != 0) {
      attempt.outcome = "not found";
      outcome.attempts.push_back(attempt);
      continue;
    }
    std::string error;
    std::shared_ptr<SharedLibrary> library = OpenCached(candidate.path, error);
    if (!library) {
      const bool missing = bareSoname && error.find("No such file") != std::string::npos;
      attempt.outcome = missing ? "not found" : "cannot be opened: " + error;
      attempt.status = missing ? AttemptStatus::kMissing : AttemptStatus::kOpenFailed;
      outcome.attempts.push_back(attempt);
      continue;
    }
    if (bareSoname) attempt.path = library->resolvedPath();

    // The version comes first: a library of the wrong major is reported as such even when it also
    // lacks entry points this build needs (their layouts differ between majors anyway).

    LibraryVersion version;
    version.major = candidate.major;
    if (!request.versionSymbol.empty()) {
      using VersionFn = int32_t (*)();
      auto readVersion = reinterpret_cast<VersionFn>(library->symbol(request.versionSymbol.c_str()));
      if (readVersion == nullptr) {
        attempt.outcome = "lacks the entry point " + request.versionSymbol;
        attempt.status = AttemptStatus::kMissingSymbol;
        outcome.attempts.push_back(attempt);
        continue;
      }
      version = LibraryVersion::FromPacked(readVersion());
    }
    if (request.expectedMajor != 0 && version.major != request.expectedMajor) {
      attempt.outcome = "TensorRT " + version.toString() + " (this addon was built for " +
                        std::to_string(request.expectedMajor) + ".x)";
      attempt.status = AttemptStatus::kWrongMajor;
      outcome.attempts.push_back(attempt);
      continue;
    }
    std::string missingSymbol;
    for (const auto& name : request.requiredSymbols) {
      if (library->symbol(name.c_str()) == nullptr) {
        missingSymbol = name;
        break;
      }
    }
    if (!missingSymbol.empty()) {
      attempt.outcome = "lacks the entry point " + missingSymbol;
      attempt.status = AttemptStatus::kMissingSymbol;
      outcome.attempts.push_back(attempt);
      continue;
    }

    attempt.outcome = "loaded TensorRT " + version.toString();
    attempt.status = AttemptStatus::kLoaded;
    outcome.attempts.push_back(attempt);
    outcome.loaded = std::make_unique<LoadedLibrary>(LoadedLibrary{library, version, candidate});
    outcome.loaded->candidate.path = attempt.path;
    break;
  }
  return outcome;
}

std::string DescribeAttempts(const std::vector<Attempt>& attempts) {
  std::string text;
  for (const auto& attempt : attempts) {
    text += "\n  - " + attempt.path + " [" + attempt.source + "]: " + attempt.outcome;
  }
  return text;
}

LoadedLibrary Load(const LibraryRequest& request, const SearchEnvironment& env) {
  LoadOutcome outcome = TryLoad(request, env);
  if (outcome.loaded) return std::move(*outcome.loaded);

  auto has = [&](AttemptStatus status) {
    return std::any_of(outcome.attempts.begin(), outcome.attempts.end(),
                       [&](const Attempt& a) { return a.status == status; });
  };
  std::string code = "ERR_TENSORRT_NOT_FOUND";
  std::string summary = request.baseName + " was not found";
  if (has(AttemptStatus::kWrongMajor)) {
    code = "ERR_TENSORRT_VERSION";
    summary = request.baseName + " was found, but not TensorRT " + std::to_string(request.expectedMajor) +
              ".x, which this addon was built for";
  } else if (has(AttemptStatus::kMissingSymbol)) {
    code = "ERR_TENSORRT_SYMBOL";
    summary = request.baseName + " was found, but it lacks an entry point this addon needs";
  } else if (has(AttemptStatus::kOpenFailed)) {
    code = "ERR_TENSORRT_LOAD";
    summary = request.baseName + " was found, but the dynamic linker could not open it";
  }
  NativeError error(code, summary + ". Tried:" + DescribeAttempts(outcome.attempts));
  error.withDetail("library", request.baseName);
  if (request.expectedMajor != 0) error.withDetail("expectedMajor", std::to_string(request.expectedMajor));
  throw error;
}

}  // namespace trt_node::trt
