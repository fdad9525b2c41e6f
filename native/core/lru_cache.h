// A small bounded map that forgets the least recently used entry: the CUDA graphs an execution
// context keeps per binding key (input shapes + tensor addresses), and the keys it has warmed up.
// Not thread-safe: the context touches it only on its stream's submit thread. Plain C++.
#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <unordered_map>
#include <utility>

namespace trt_node {

template <typename Key, typename Value, typename Hash = std::hash<Key>>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}
  LruCache(const LruCache&) = delete;
  LruCache& operator=(const LruCache&) = delete;

  // The value for `key`, now the most recently used one; nullptr when absent.
  Value* Find(const Key& key) {
    auto found = index_.find(key);
    if (found == index_.end()) return nullptr;
    entries_.splice(entries_.begin(), entries_, found->second);
    return &found->second->second;
  }

  bool Contains(const Key& key) const { return index_.count(key) != 0; }

  // Inserts or replaces `key`. Returns the entry evicted to make room, if any, so that the caller
  // decides where its destructor runs (a CUDA graph must be destroyed on a thread with the device).
  std::optional<std::pair<Key, Value>> Insert(Key key, Value value) {
    if (auto found = index_.find(key); found != index_.end()) {
      found->second->second = std::move(value);
      entries_.splice(entries_.begin(), entries_, found->second);
      return std::nullopt;
    }
    entries_.emplace_front(key, std::move(value));
    index_.emplace(std::move(key), entries_.begin());
    if (entries_.size() <= capacity_) return std::nullopt;
    auto oldest = std::prev(entries_.end());
    index_.erase(oldest->first);
    std::pair<Key, Value> evicted = std::move(*oldest);
    entries_.erase(oldest);
    return evicted;
  }

  void Clear() {
    index_.clear();
    entries_.clear();
  }

  size_t size() const noexcept { return entries_.size(); }
  size_t capacity() const noexcept { return capacity_; }

 private:
  using Entries = std::list<std::pair<Key, Value>>;
  size_t capacity_;
  Entries entries_;  // most recently used first
  std::unordered_map<Key, typename Entries::iterator, Hash> index_;
};

}  // namespace trt_node
