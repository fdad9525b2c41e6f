#include "napi/errors.h"

#include "napi/addon_data.h"

namespace trt_node::napi {
namespace {

const char* KindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kType:
      return "type";
    case ErrorKind::kRange:
      return "range";
    case ErrorKind::kGeneric:
      break;
  }
  return "generic";
}

Napi::Object ExtrasOf(Napi::Env env, const NativeError& error) {
  Napi::Object extras = Napi::Object::New(env);
  if (const auto& cuda = error.cudaError()) {
    Napi::Object cudaError = Napi::Object::New(env);
    cudaError.Set("code", cuda->code);
    cudaError.Set("name", cuda->name);
    extras.Set("cudaError", cudaError);
  }
  if (const auto& code = error.tensorrtErrorCode()) extras.Set("tensorrtErrorCode", *code);
  if (!error.tensorrtMessages().empty()) {
    Napi::Array messages = Napi::Array::New(env, error.tensorrtMessages().size());
    for (uint32_t i = 0; i < error.tensorrtMessages().size(); ++i) messages.Set(i, error.tensorrtMessages()[i]);
    extras.Set("tensorrtMessages", messages);
  }
  if (!error.details().empty()) {
    Napi::Object details = Napi::Object::New(env);
    for (const auto& [key, value] : error.details()) details.Set(key, value);
    extras.Set("details", details);
  }
  return extras;
}

Napi::Value SetErrorFactory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) {
    throw Napi::TypeError::New(env, "Expected a function for errorFactory");
  }
  AddonData::Get(env).errorFactory = Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

// Test hooks: prove the bridge (class, code, CUDA details) from a real native throw, synchronously
// and from a worker thread, without needing a GPU.
Napi::Value ThrowForTest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const std::string code = RequireString(info[0], "code");
    const std::string message = RequireString(info[1], "message");
    NativeError error(code, message);
    if (info[2].IsNumber()) {
      error.withCudaError(info[2].As<Napi::Number>().Int32Value(), RequireString(info[3], "cudaErrorName"));
    }
    throw error;
  });
}

}  // namespace

Napi::Value ToJsError(Napi::Env env, const NativeError& error) {
  Napi::EscapableHandleScope scope(env);
  AddonData& data = AddonData::Get(env);
  if (!data.errorFactory.IsEmpty()) {
    Napi::Value jsError =
        data.errorFactory.Call({Napi::String::New(env, error.code()), Napi::String::New(env, error.what()),
                                Napi::String::New(env, KindName(error.kind())), ExtrasOf(env, error)});
    return scope.Escape(jsError);
  }
  Napi::Error fallback = Napi::Error::New(env, error.what());
  fallback.Value().Set("code", error.code());
  return scope.Escape(fallback.Value());
}

NativeError ToNativeError(std::exception_ptr thrown) {
  try {
    std::rethrow_exception(thrown);
  } catch (const NativeError& error) {
    return error;
  } catch (const std::bad_alloc&) {
    return NativeError("ERR_OUT_OF_MEMORY", "Host memory allocation failed");
  } catch (const std::exception& error) {
    return NativeError("ERR_INTERNAL", std::string("Internal error: ") + error.what());
  } catch (...) {
    return NativeError("ERR_INTERNAL", "Internal error: unknown exception");
  }
}

std::string RequireString(const Napi::Value& value, const char* what) {
  if (!value.IsString()) throw InvalidArgument(std::string("Expected a string for ") + what);
  return value.As<Napi::String>().Utf8Value();
}

Napi::Object RequireObject(const Napi::Value& value, const char* what) {
  if (!value.IsObject()) throw InvalidArgument(std::string("Expected an object for ") + what);
  return value.As<Napi::Object>();
}

std::string OptionalString(const Napi::Object& object, const char* key, const char* what) {
  Napi::Value value = object.Get(key);
  if (value.IsUndefined() || value.IsNull()) return "";
  return RequireString(value, what);
}

std::vector<std::string> OptionalStringArray(const Napi::Object& object, const char* key, const char* what) {
  Napi::Value value = object.Get(key);
  std::vector<std::string> strings;
  if (value.IsUndefined() || value.IsNull()) return strings;
  if (!value.IsArray()) throw InvalidArgument(std::string("Expected an array of strings for ") + what);
  Napi::Array array = value.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); ++i) strings.push_back(RequireString(array.Get(i), what));
  return strings;
}

ViewedBytes BytesOf(const Napi::TypedArray& array) {
  void* data = nullptr;
  if (napi_get_typedarray_info(array.Env(), array, nullptr, nullptr, &data, nullptr, nullptr) != napi_ok)
    throw InvalidArgument("Expected a TypedArray whose memory can be read");
  return {static_cast<uint8_t*>(data), data == nullptr ? 0 : array.ByteLength()};
}

void RegisterErrors(Napi::Env env, Napi::Object exports) {
  exports.Set("setErrorFactory", Napi::Function::New(env, SetErrorFactory, "setErrorFactory"));
  exports.Set("throwForTest", Napi::Function::New(env, ThrowForTest, "throwForTest"));
}

}  // namespace trt_node::napi
