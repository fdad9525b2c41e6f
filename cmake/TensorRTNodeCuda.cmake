# Finds the CUDA toolkit (FindCUDAToolkit, never the deprecated FindCUDA) and enables the CUDA
# language with explicit architectures, so configuring needs no GPU.
include_guard(GLOBAL)
include(CheckLanguage)

set(TRT_NODE_HAS_CUDA OFF)
set(TRT_NODE_CUDA_VERSION "")
set(TRT_NODE_CUDA_MISSING_REASON "")

if(TRT_NODE_EMULATED_DEVICE)
  # Only the toolkit's headers are used (cuda_runtime_api.h, cuda_fp16.h): the emulated runtime
  # implements the declared functions, and the kernels are host code. No CUDA language, no nvcc run.
  find_package(CUDAToolkit REQUIRED)
  set(TRT_NODE_HAS_CUDA ON)
  set(TRT_NODE_CUDA_VERSION "${CUDAToolkit_VERSION}")
  set(CMAKE_CUDA_ARCHITECTURES "emulated")
elseif(TRT_NODE_CUDA STREQUAL "OFF")
  if(TRT_NODE_CUDA_DISABLED_BY)
    set(TRT_NODE_CUDA_MISSING_REASON "CUDA was disabled by ${TRT_NODE_CUDA_DISABLED_BY}")
  else()
    set(TRT_NODE_CUDA_MISSING_REASON "CUDA was disabled with -DTRT_NODE_CUDA=OFF")
  endif()
else()
  # CUDA 13 supports sm_75 and newer. Real code for each, PTX for the newest so future GPUs JIT.
  # TENSORRT_NODE_CUDA_ARCHITECTURES narrows the list for quick local builds.
  if(DEFINED ENV{TENSORRT_NODE_CUDA_ARCHITECTURES} AND NOT "$ENV{TENSORRT_NODE_CUDA_ARCHITECTURES}" STREQUAL "")
    set(CMAKE_CUDA_ARCHITECTURES "$ENV{TENSORRT_NODE_CUDA_ARCHITECTURES}")
  elseif(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES "75-real;80-real;86-real;89-real;90-real;100-real;120")
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    find_package(CUDAToolkit)
  endif()
  if(CMAKE_CUDA_COMPILER AND CUDAToolkit_FOUND)
    set(TRT_NODE_HAS_CUDA ON)
    set(TRT_NODE_CUDA_VERSION "${CUDAToolkit_VERSION}")
    # C++17 for the kernels: CMake < 3.27 does not know how to ask nvcc 13 for C++20 (and the
    # kernels and the headers they include need nothing newer).
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  else()
    set(TRT_NODE_CUDA_MISSING_REASON "no CUDA toolkit was found (nvcc not on PATH and CUDAToolkit_ROOT/CUDA_PATH not set)")
    if(TRT_NODE_CUDA STREQUAL "ON")
      message(FATAL_ERROR "TRT_NODE_CUDA=ON but ${TRT_NODE_CUDA_MISSING_REASON}")
    endif()
  endif()
endif()
