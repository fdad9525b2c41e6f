// The kernels' per-element math (kernels/elementwise.h) on the host: the functions the .cu kernels
// run on a GPU and the emulated device runs on its workers. Checked against references that share
// no code with them: GCC's _Float16 conversions (libgcc's soft-float, IEEE round to nearest even)
// and double-precision arithmetic.
//
// float32 -> float16 is checked on a stratified subset of the 2^32 inputs by default: every sign,
// exponent and top-10 mantissa pattern (the float16 candidates), each with the low mantissa bits
// that decide rounding (0, 1, just under/at/just over the halfway point, all ones, and 8 pseudo-random
// patterns): 2 x 256 x 1024 x 16 = 8,388,608 inputs, under a second. TRTNODE_EXHAUSTIVE_FLOAT16=1
// checks all 2^32: about 6 CPU-minutes of a Release build (run once for issue 14: 0 mismatches).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>

#include "kernels/elementwise.h"

namespace trt_node::kernels {
namespace {

uint32_t BitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

float FloatOf(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

uint16_t ReferenceHalfBits(float value) {
  const _Float16 half = static_cast<_Float16>(value);
  uint16_t bits;
  std::memcpy(&bits, &half, sizeof(bits));
  return bits;
}

bool IsHalfNaN(uint16_t bits) { return (bits & 0x7c00) == 0x7c00 && (bits & 0x03ff) != 0; }

// Same float16, or both NaN (payloads differ between implementations and are not part of the contract).
bool SameHalf(uint16_t actual, uint16_t expected) {
  return actual == expected || (IsHalfNaN(actual) && IsHalfNaN(expected));
}

// Counts mismatches over every input with the given top bits (sign, exponent, 10 mantissa bits).
uint64_t MismatchesForTopBits(uint32_t top, const std::vector<uint32_t>& lowPatterns) {
  uint64_t mismatches = 0;
  for (uint32_t low : lowPatterns) {
    const float value = FloatOf((top << 13) | low);
    if (!SameHalf(Float32ToFloat16Bits(value), ReferenceHalfBits(value))) ++mismatches;
  }
  return mismatches;
}

TEST(KernelMath, Float16ToFloat32IsExactForAll65536Patterns) {
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    _Float16 half;
    const uint16_t pattern = static_cast<uint16_t>(bits);
    std::memcpy(&half, &pattern, sizeof(half));
    const float expected = static_cast<float>(half);
    const float actual = Float16BitsToFloat32(pattern);
    if (std::isnan(expected)) {
      ASSERT_TRUE(std::isnan(actual)) << std::hex << bits;
    } else {
      ASSERT_EQ(BitsOf(actual), BitsOf(expected)) << std::hex << bits;  // also tells -0 from +0
    }
  }
}

TEST(KernelMath, Float32ToFloat16RoundsToNearestEvenOnAStratifiedSubset) {
  std::vector<uint32_t> lows = {0x0000, 0x0001, 0x0fff, 0x1000, 0x1001, 0x1fff, 0x07ff, 0x1800};
  uint32_t state = 0x9e3779b9u;
  for (int i = 0; i < 8; ++i) {
    state = state * 1664525u + 1013904223u;
    lows.push_back(state & 0x1fff);
  }
  uint64_t mismatches = 0;
  for (uint32_t top = 0; top < (1u << 19); ++top) mismatches += MismatchesForTopBits(top, lows);
  EXPECT_EQ(mismatches, 0u);
}

TEST(KernelMath, Float32ToFloat16MatchesTheReferenceForAll2To32InputsWhenAsked) {
  const char* exhaustive = std::getenv("TRTNODE_EXHAUSTIVE_FLOAT16");
  if (exhaustive == nullptr || std::strcmp(exhaustive, "1") != 0) {
    GTEST_SKIP() << "set TRTNODE_EXHAUSTIVE_FLOAT16=1 to check all 2^32 float32 inputs";
  }
  std::vector<uint32_t> allLows(1u << 13);
  for (uint32_t low = 0; low < allLows.size(); ++low) allLows[low] = low;
  const unsigned workers = std::max(1u, std::thread::hardware_concurrency());
  std::vector<uint64_t> mismatches(workers, 0);
  std::vector<std::thread> threads;
  for (unsigned worker = 0; worker < workers; ++worker) {
    threads.emplace_back([&, worker] {
      for (uint32_t top = worker; top < (1u << 19); top += workers) {
        mismatches[worker] += MismatchesForTopBits(top, allLows);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  uint64_t total = 0;
  for (uint64_t count : mismatches) total += count;
  EXPECT_EQ(total, 0u);
}

TEST(KernelMath, Float32ToFloat16KnownValues) {
  EXPECT_EQ(Float32ToFloat16Bits(0.0f), 0x0000);
  EXPECT_EQ(Float32ToFloat16Bits(-0.0f), 0x8000);
  EXPECT_EQ(Float32ToFloat16Bits(1.0f), 0x3c00);
  EXPECT_EQ(Float32ToFloat16Bits(-2.0f), 0xc000);
  EXPECT_EQ(Float32ToFloat16Bits(65504.0f), 0x7bff);   // largest finite
  EXPECT_EQ(Float32ToFloat16Bits(65519.99f), 0x7bff);  // still rounds down
  EXPECT_EQ(Float32ToFloat16Bits(65520.0f), 0x7c00);   // halfway: to infinity (even)
  EXPECT_EQ(Float32ToFloat16Bits(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(Float32ToFloat16Bits(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(Float32ToFloat16Bits(std::ldexp(1.0f, -25)), 0x0000);  // halfway to it: even (0)
  EXPECT_EQ(Float32ToFloat16Bits(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
  EXPECT_EQ(Float32ToFloat16Bits(1.0f + std::ldexp(1.0f, -11)), 0x3c00);      // halfway: even
  EXPECT_EQ(Float32ToFloat16Bits(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // halfway: even (up)
  EXPECT_TRUE(IsHalfNaN(Float32ToFloat16Bits(std::numeric_limits<float>::quiet_NaN())));
}

// Image preprocessing: layouts, channel order, normalization, rounding.
struct Image {
  int64_t batch, height, width;
  int channels;
  std::vector<uint8_t> pixels;  // NHWC
};

Image MakeImage(int64_t batch, int64_t height, int64_t width, int channels) {
  Image image{batch, height, width, channels, {}};
  image.pixels.resize(static_cast<size_t>(batch * height * width * channels));
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>((i * 37 + 11) % 256);
  return image;
}

template <typename Out>
std::vector<Out> Preprocess(const Image& image, ImagePreprocessParams params) {
  std::vector<Out> out(static_cast<size_t>(image.batch * 3 * image.height * image.width));
  params.src = image.pixels.data();
  params.dst = out.data();
  params.batch = image.batch;
  params.height = image.height;
  params.width = image.width;
  params.srcChannels = image.channels;
  params.outputType = sizeof(Out) == 2 ? ElementType::kFloat16 : ElementType::kFloat32;
  for (int64_t pixel = 0; pixel < image.batch * image.height * image.width; ++pixel) {
    PreprocessPixel<Out>(params, pixel);
  }
  return out;
}

TEST(KernelMath, PreprocessWritesNchwPlanesFromInterleavedPixelsWithTheChannelMap) {
  const Image image = MakeImage(2, 3, 5, 4);  // BGRA, two images
  ImagePreprocessParams params;
  params.channelMap[0] = 2;  // R plane from source channel 2 (BGR order)
  params.channelMap[1] = 1;
  params.channelMap[2] = 0;
  const std::vector<float> out = Preprocess<float>(image, params);  // alpha 1, beta 0: raw values
  for (int64_t n = 0; n < 2; ++n) {
    for (int c = 0; c < 3; ++c) {
      for (int64_t y = 0; y < 3; ++y) {
        for (int64_t x = 0; x < 5; ++x) {
          const uint8_t source = image.pixels[static_cast<size_t>(((n * 3 + y) * 5 + x) * 4 + params.channelMap[c])];
          ASSERT_EQ(out[static_cast<size_t>(((n * 3 + c) * 3 + y) * 5 + x)], static_cast<float>(source))
              << n << "," << c << "," << y << "," << x;
        }
      }
    }
  }
}

TEST(KernelMath, PreprocessNormalizesWithMeanAndStdInOneRounding) {
  const Image image = MakeImage(1, 4, 4, 3);
  // ImageNet: mean and std on the 0..1 scale, so alpha = (1/255) / std and beta = -mean / std,
  // computed as lib/preprocess.ts does (in double, then rounded to float32 for the kernel).
  const double mean[3] = {0.485, 0.456, 0.406};
  const double stddev[3] = {0.229, 0.224, 0.225};
  ImagePreprocessParams params;
  for (int c = 0; c < 3; ++c) {
    params.alpha[c] = static_cast<float>(1.0 / 255.0 / stddev[c]);
    params.beta[c] = static_cast<float>(-mean[c] / stddev[c]);
  }
  const std::vector<float> out = Preprocess<float>(image, params);
  for (int c = 0; c < 3; ++c) {
    for (int64_t i = 0; i < 16; ++i) {
      const uint8_t source = image.pixels[static_cast<size_t>(i * 3 + c)];
      // One rounding of the exact x * alpha + beta (alpha and beta as the kernel received them).
      const double exact = static_cast<double>(source) * params.alpha[c] + params.beta[c];
      EXPECT_EQ(out[static_cast<size_t>(c * 16 + i)], static_cast<float>(exact));
      // And close to the textbook formula, up to the rounding of alpha and beta.
      EXPECT_NEAR(out[static_cast<size_t>(c * 16 + i)], (source / 255.0 - mean[c]) / stddev[c], 1e-5);
    }
  }
}

TEST(KernelMath, PreprocessToFloat16RoundsTheFloat32ResultToNearestEven) {
  const Image image = MakeImage(1, 8, 8, 3);
  ImagePreprocessParams params;
  for (int c = 0; c < 3; ++c) {
    params.alpha[c] = 0.0173f * static_cast<float>(c + 1);
    params.beta[c] = -1.5f + static_cast<float>(c);
  }
  const std::vector<float> wide = Preprocess<float>(image, params);
  const std::vector<uint16_t> half = Preprocess<uint16_t>(image, params);
  ASSERT_EQ(wide.size(), half.size());
  for (size_t i = 0; i < wide.size(); ++i) ASSERT_EQ(half[i], ReferenceHalfBits(wide[i])) << i;
}

}  // namespace
}  // namespace trt_node::kernels
