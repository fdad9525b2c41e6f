#include "core/byte_range.h"

#include <gtest/gtest.h>

#include <limits>

namespace trt_node {
namespace {

TEST(ByteRange, AcceptsOnlyNonNegativeSafeIntegers) {
  EXPECT_EQ(ByteCountFromNumber(0), 0u);
  EXPECT_EQ(ByteCountFromNumber(4096), 4096u);
  EXPECT_EQ(ByteCountFromNumber(9007199254740991.0), 9007199254740991ULL);
  EXPECT_FALSE(ByteCountFromNumber(-1));
  EXPECT_FALSE(ByteCountFromNumber(1.5));
  EXPECT_FALSE(ByteCountFromNumber(9007199254740992.0));
  EXPECT_FALSE(ByteCountFromNumber(std::numeric_limits<double>::quiet_NaN()));
  EXPECT_FALSE(ByteCountFromNumber(std::numeric_limits<double>::infinity()));
}

TEST(ByteRange, RangesMustFitWithoutOverflow) {
  EXPECT_TRUE(RangeFits(0, 16, 16));
  EXPECT_TRUE(RangeFits(16, 0, 16));
  EXPECT_FALSE(RangeFits(1, 16, 16));
  EXPECT_FALSE(RangeFits(17, 0, 16));
  const uint64_t huge = std::numeric_limits<uint64_t>::max();
  EXPECT_FALSE(RangeFits(8, huge - 4, 16)) << "offset + length wraps around";
}

TEST(ByteRange, ByteSizesOverflowPastSafeIntegers) {
  EXPECT_EQ(CheckedByteSize(1024, 4), 4096u);
  EXPECT_EQ(CheckedByteSize(0, 8), 0u);
  EXPECT_FALSE(CheckedByteSize(1ULL << 52, 4));
  EXPECT_EQ(CheckedByteSize((1ULL << 50) - 1, 8), (1ULL << 53) - 8);
  EXPECT_FALSE(CheckedByteSize(1ULL << 50, 8)) << "2^53 is past Number.MAX_SAFE_INTEGER";
}

}  // namespace
}  // namespace trt_node
