#include "core/lru_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "trt/binding_key.h"

namespace trt_node {
namespace {

TEST(LruCache, EvictsTheLeastRecentlyUsedEntryAndHandsItBack) {
  LruCache<std::string, int> cache(2);
  EXPECT_FALSE(cache.Insert("a", 1).has_value());
  EXPECT_FALSE(cache.Insert("b", 2).has_value());
  ASSERT_NE(cache.Find("a"), nullptr);  // "a" is now the most recent: "b" goes next
  const auto evicted = cache.Insert("c", 3);
  ASSERT_TRUE(evicted.has_value());
  EXPECT_EQ(evicted->first, "b");
  EXPECT_EQ(evicted->second, 2);
  EXPECT_EQ(cache.Find("b"), nullptr);
  EXPECT_EQ(*cache.Find("a"), 1);
  EXPECT_EQ(*cache.Find("c"), 3);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(LruCache, ReplacingAKeyKeepsTheSizeAndRefreshesIt) {
  LruCache<std::string, int> cache(2);
  cache.Insert("a", 1);
  cache.Insert("b", 2);
  EXPECT_FALSE(cache.Insert("a", 10).has_value());
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.Insert("c", 3)->first, "b");
  EXPECT_EQ(*cache.Find("a"), 10);
  EXPECT_TRUE(cache.Contains("c"));
}

TEST(LruCache, HoldsMoveOnlyValuesAndNeverHasZeroCapacity) {
  LruCache<int, std::unique_ptr<int>> cache(0);
  EXPECT_EQ(cache.capacity(), 1u);
  cache.Insert(1, std::make_unique<int>(1));
  const auto evicted = cache.Insert(2, std::make_unique<int>(2));
  ASSERT_TRUE(evicted.has_value());
  EXPECT_EQ(*evicted->second, 1);
  cache.Clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Find(2), nullptr);
}

TEST(BindingKey, ShapesOfDifferentRanksNeverCollide) {
  trt::BindingKey a, b;
  a.AddShape({2, 3});
  b.AddShape({2});
  b.AddShape({3});
  EXPECT_FALSE(a == b);
  EXPECT_NE(trt::BindingKeyHash{}(a), trt::BindingKeyHash{}(b));
}

TEST(BindingKey, AddressesAndShapeTensorValuesArePartOfTheKey) {
  int first = 0, second = 0;
  trt::BindingKey a, b, c;
  for (trt::BindingKey* key : {&a, &b, &c}) key->AddShape({1, 4});
  a.AddAddress(&first);
  b.AddAddress(&second);
  c.AddAddress(&first);
  EXPECT_FALSE(a == b);
  EXPECT_TRUE(a == c);
  const int64_t values[] = {1, 3, 224, 224};
  const int64_t other[] = {1, 3, 224, 225};
  trt::BindingKey d, e;
  d.AddBytes(values, sizeof(values));
  e.AddBytes(other, sizeof(other));
  EXPECT_FALSE(d == e);
  // Sizes that are not whole words are padded, not read past the end.
  const unsigned char three[] = {1, 2, 3};
  trt::BindingKey f;
  f.AddBytes(three, sizeof(three));
  EXPECT_EQ(f.words.size(), 2u);
  EXPECT_EQ(f.words[0], 3);
}

}  // namespace
}  // namespace trt_node
