// What a captured CUDA graph depends on: the input shapes (and the values of host shape tensors,
// which decide output shapes), plus the address of every tensor the graph reads or writes, because
// a graph replays its kernels with the pointers they were captured with. Plain C++, no TensorRT.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

namespace trt_node::trt {

struct BindingKey {
  std::vector<int64_t> words;

  void AddShape(const std::vector<int64_t>& shape) {
    words.push_back(static_cast<int64_t>(shape.size()));
    words.insert(words.end(), shape.begin(), shape.end());
  }
  // Host shape-tensor values, byte by byte (padded into whole words): they are part of the shape.
  void AddBytes(const void* data, size_t bytes) {
    words.push_back(static_cast<int64_t>(bytes));
    const auto* source = static_cast<const unsigned char*>(data);
    for (size_t offset = 0; offset < bytes; offset += sizeof(int64_t)) {
      int64_t word = 0;
      std::memcpy(&word, source + offset, bytes - offset < sizeof(int64_t) ? bytes - offset : sizeof(int64_t));
      words.push_back(word);
    }
  }
  void AddAddress(const void* address) { words.push_back(static_cast<int64_t>(reinterpret_cast<uintptr_t>(address))); }

  bool operator==(const BindingKey& other) const noexcept { return words == other.words; }
};

struct BindingKeyHash {
  size_t operator()(const BindingKey& key) const noexcept {
    size_t hash = 1469598103934665603ULL;
    for (int64_t word : key.words) hash = (hash ^ std::hash<int64_t>{}(word)) * 1099511628211ULL;
    return hash;
  }
};

}  // namespace trt_node::trt
