/* Test-only stand-in for libnvinfer that exports TensorRT's version entry points and nothing else:
 * enough to test the loader's version and entry-point checks, and unable to imitate inference. */
#define FAKE_EXPORT __attribute__((visibility("default")))

FAKE_EXPORT int getInferLibVersion(void) { return FAKE_TENSORRT_VERSION; }
FAKE_EXPORT int getInferLibMajorVersion(void) { return FAKE_TENSORRT_VERSION / 10000; }
FAKE_EXPORT int getInferLibMinorVersion(void) { return (FAKE_TENSORRT_VERSION / 100) % 100; }
FAKE_EXPORT int getInferLibPatchVersion(void) { return FAKE_TENSORRT_VERSION % 100; }
