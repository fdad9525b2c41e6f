# Build switches. Each can be given as a CMake variable (-D, or cmake-js --CD...) or, for the ones
# users reach for at install time, as an environment variable.
include_guard(GLOBAL)

find_package(Threads REQUIRED)

# TENSORRT_NODE_DISABLE_CUDA=1 builds the CPU-only addon even where a CUDA toolkit exists (used by
# the tests that prove `npm install` works without CUDA, and by users who only want the cpu backend).
set(TRT_NODE_CUDA "AUTO" CACHE STRING "Build the CUDA layer: AUTO (when a toolkit is found), ON or OFF")
if(DEFINED ENV{TENSORRT_NODE_DISABLE_CUDA} AND "$ENV{TENSORRT_NODE_DISABLE_CUDA}" MATCHES "^(1|ON|on|true|TRUE|yes|YES)$")
  set(TRT_NODE_CUDA "OFF" CACHE STRING "" FORCE)
  set(TRT_NODE_CUDA_DISABLED_BY "the TENSORRT_NODE_DISABLE_CUDA environment variable")
endif()

set(TRT_NODE_TENSORRT "AUTO" CACHE STRING "Build the TensorRT runtime: AUTO (when headers are found), ON or OFF")
option(TRT_NODE_BUILD_TESTS "Build the GoogleTest suite for the native core" OFF)
# A test build: the addon runs on the emulated CUDA device (native/emulated/cuda, a host library with
# one worker thread per stream) instead of the CUDA runtime, and its kernels are compiled as host code
# (no nvcc). It proves plumbing, lifetimes and protocol, never GPU numerics or speed; build it into
# its own folder (build-emulated/), never into a package.
option(TRT_NODE_EMULATED_DEVICE "Build against the emulated CUDA device (tests only; no GPU is used)" OFF)
option(TRT_NODE_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)

# gcov instrumentation for npm run coverage:native (build-emulated-coverage/ only).
option(TRT_NODE_COVERAGE "Instrument the native code for gcov (coverage runs only)" OFF)
if(TRT_NODE_COVERAGE)
  add_compile_options(--coverage -O0)
  add_link_options(--coverage)
  # Lets the emulated build's test hooks write the counters on demand (napi/cuda_emulated.cc).
  add_compile_definitions(TRT_NODE_COVERAGE_BUILD=1)
endif()

function(trt_node_apply_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>)
endfunction()

function(trt_node_apply_sanitizers target)
  if(TRT_NODE_SANITIZE)
    target_compile_options(${target} PRIVATE
      $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined>)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
