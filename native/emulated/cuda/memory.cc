#include "emulated/cuda/memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <new>

namespace trt_node::emulated {
namespace {

// Freed ranges stay reserved (and inaccessible) until the quarantine holds more than this; only then
// may the address be handed out again. PROT_NONE reservations cost address space, not memory.
constexpr size_t kQuarantineAllocations = 4096;
constexpr size_t kQuarantineBytes = 64ull << 30;

size_t PageSize() {
  static const size_t size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

std::string Hex(uintptr_t value) {
  char text[32];
  std::snprintf(text, sizeof(text), "0x%llx", static_cast<unsigned long long>(value));
  return text;
}

const char* KindName(MemoryKind kind) { return kind == MemoryKind::kDevice ? "device" : "pinned host"; }

std::string Describe(const Allocation& allocation) {
  return std::string(KindName(allocation.kind)) + " allocation " + Hex(allocation.base) + " (" +
         std::to_string(allocation.bytes) + " bytes, device " + std::to_string(allocation.device) + ")";
}

}  // namespace

MemoryRegistry& MemoryRegistry::Get() {
  static MemoryRegistry* registry = new MemoryRegistry();  // immortal, like the runtime
  return *registry;
}

void* MemoryRegistry::Allocate(size_t bytes, MemoryKind kind, int device) {
  const size_t page = PageSize();
  if (bytes > (SIZE_MAX - 2 * page)) throw std::bad_alloc();
  const size_t rounded = (bytes + page - 1) / page * page;
  const size_t mapped = rounded + page;  // + a guard page: running off the end faults
  void* base = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  mprotect(static_cast<char*>(base) + rounded, page, PROT_NONE);
  Allocation allocation;
  allocation.base = reinterpret_cast<uintptr_t>(base);
  allocation.bytes = bytes;
  allocation.mappedBytes = mapped;
  allocation.kind = kind;
  allocation.device = device;
  std::lock_guard<std::mutex> lock(mutex_);
  try {
    allocations_[allocation.base] = allocation;
  } catch (...) {
    munmap(base, mapped);
    throw;
  }
  return base;
}

cudaError_t MemoryRegistry::Find(const void* pointer, MemoryKind kind, Allocation* found) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = allocations_.find(reinterpret_cast<uintptr_t>(pointer));
  if (it == allocations_.end() || it->second.freed || it->second.kind != kind) return cudaErrorInvalidValue;
  if (found != nullptr) *found = it->second;
  return cudaSuccess;
}

cudaError_t MemoryRegistry::Free(const void* pointer, MemoryKind kind, const char* freedBy) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = allocations_.find(reinterpret_cast<uintptr_t>(pointer));
  if (it == allocations_.end() || it->second.freed || it->second.kind != kind) return cudaErrorInvalidValue;
  Allocation& allocation = it->second;
  void* base = reinterpret_cast<void*>(allocation.base);
  // Return the pages, then make every access fault until the quarantine lets the range go.
  madvise(base, allocation.mappedBytes, MADV_DONTNEED);
  mprotect(base, allocation.mappedBytes, PROT_NONE);
  allocation.freed = true;
  allocation.freedBy = freedBy;
  quarantine_.push_back(allocation.base);
  quarantinedBytes_ += allocation.mappedBytes;
  EvictQuarantineLocked();
  return cudaSuccess;
}

void MemoryRegistry::EvictQuarantineLocked() {
  while (!quarantine_.empty() &&
         (quarantine_.size() > kQuarantineAllocations || quarantinedBytes_ > kQuarantineBytes)) {
    auto it = allocations_.find(quarantine_.front());
    quarantine_.pop_front();
    if (it == allocations_.end()) continue;
    munmap(reinterpret_cast<void*>(it->second.base), it->second.mappedBytes);
    quarantinedBytes_ -= it->second.mappedBytes;
    allocations_.erase(it);
  }
}

bool MemoryRegistry::Lookup(const void* pointer, Allocation* found) const {
  const uintptr_t address = reinterpret_cast<uintptr_t>(pointer);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = allocations_.upper_bound(address);
  if (it == allocations_.begin()) return false;
  --it;
  if (address >= it->second.base + it->second.mappedBytes) return false;
  if (found != nullptr) *found = it->second;
  return true;
}

AccessCheck MemoryRegistry::Check(const void* pointer, size_t bytes, bool deviceVisible, int streamDevice,
                                  const char* role) const {
  AccessCheck result;
  if (bytes == 0) return result;
  const uintptr_t address = reinterpret_cast<uintptr_t>(pointer);
  auto fail = [&](const std::string& why) {
    result.status = cudaErrorIllegalAddress;
    result.why = std::string(role) + " [" + Hex(address) + ", +" + std::to_string(bytes) + ") " + why;
    return result;
  };
  Allocation allocation;
  if (Lookup(pointer, &allocation)) {
    if (allocation.freed) {
      return fail("is in " + Describe(allocation) + ", already freed by " + allocation.freedBy + " (use after free)");
    }
    if (address - allocation.base > allocation.bytes || bytes > allocation.bytes - (address - allocation.base)) {
      return fail("runs past the end of " + Describe(allocation));
    }
    if (deviceVisible && allocation.kind == MemoryKind::kDevice && allocation.device != streamDevice) {
      return fail("is " + Describe(allocation) + ", but the work runs on device " + std::to_string(streamDevice) +
                  " (no peer access in the emulation)");
    }
    return result;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto next = allocations_.lower_bound(address);
    if (next != allocations_.end() && next->first - address < bytes) {
      return fail("runs into " + Describe(next->second));
    }
  }
  if (deviceVisible) return fail("is pageable host memory, which the device cannot access");
  return result;
}

int64_t MemoryRegistry::liveCount(MemoryKind kind, int device) const {
  std::lock_guard<std::mutex> lock(mutex_);
  int64_t count = 0;
  for (const auto& [base, allocation] : allocations_) {
    if (!allocation.freed && allocation.kind == kind && (device < 0 || allocation.device == device)) ++count;
  }
  return count;
}

int64_t MemoryRegistry::liveBytes(MemoryKind kind, int device) const {
  std::lock_guard<std::mutex> lock(mutex_);
  int64_t bytes = 0;
  for (const auto& [base, allocation] : allocations_) {
    if (!allocation.freed && allocation.kind == kind && (device < 0 || allocation.device == device)) {
      bytes += static_cast<int64_t>(allocation.bytes);
    }
  }
  return bytes;
}

bool MemoryRegistry::empty() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return allocations_.empty();
}

}  // namespace trt_node::emulated
