# The emulated CUDA device (TRT_NODE_EMULATED_DEVICE=ON): libtrtnode_emulated_cudart.so, a host
# implementation of the CUDA runtime functions the addon calls. Shared, so that the addon, the fake
# TensorRT library and the GoogleTest suite all use one emulated device; it lands next to the addon
# (cmake-js's output folder), which finds it through its $ORIGIN rpath.
include_guard(GLOBAL)

function(trt_node_add_emulated_cudart)
  file(GLOB sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/native/emulated/cuda/*.cc")
  add_library(trtnode_emulated_cudart SHARED ${sources})
  target_include_directories(trtnode_emulated_cudart PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}/native")
  target_include_directories(trtnode_emulated_cudart SYSTEM PUBLIC ${CUDAToolkit_INCLUDE_DIRS})
  target_link_libraries(trtnode_emulated_cudart PRIVATE Threads::Threads)
  # Only the CUDA runtime functions and the trtnodeEmulated* hooks are exported.
  set(version_script "${CMAKE_CURRENT_SOURCE_DIR}/native/emulated/cuda/exports.map")
  target_link_options(trtnode_emulated_cudart PRIVATE "LINKER:--version-script=${version_script}")
  set_target_properties(trtnode_emulated_cudart PROPERTIES LINK_DEPENDS "${version_script}")
  # Default visibility (the toolkit header declares the API without attributes); the version script
  # above decides what is exported.
  set_target_properties(trtnode_emulated_cudart PROPERTIES CXX_VISIBILITY_PRESET default)
  trt_node_apply_warnings(trtnode_emulated_cudart)
  trt_node_apply_sanitizers(trtnode_emulated_cudart)
endfunction()
