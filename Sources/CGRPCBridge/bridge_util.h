// Internal helpers shared by the bridge's .cpp files (not part of the C API).
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "rosetta_grpc.h"

namespace rg {

// Runs `body`, which returns an RG_* code, and answers RG_ERR_INTERNAL for any exception it throws: no C++
// exception may cross the extern "C" boundary.
template <class Body>
int Guarded(Body &&body) noexcept {
    try {
        return body();
    } catch (...) {
        return RG_ERR_INTERNAL;
    }
}

// The same for a body that returns nothing: its exceptions are swallowed.
template <class Body>
void GuardedVoid(Body &&body) noexcept {
    try {
        body();
    } catch (...) {
    }
}

// Copies `text` into a caller buffer, always NUL-terminated when cap > 0.
inline void SetError(char *error, size_t cap, const std::string &text) {
    if (error == nullptr || cap == 0) return;
    size_t n = text.size() < cap - 1 ? text.size() : cap - 1;
    std::memcpy(error, text.data(), n);
    error[n] = '\0';
}

inline grpc::ByteBuffer ToByteBuffer(const uint8_t *bytes, size_t len) {
    grpc::Slice slice(bytes, len);  // copies
    return grpc::ByteBuffer(&slice, 1);
}

// Flattens a (possibly multi-slice) ByteBuffer into contiguous bytes.
inline std::vector<uint8_t> FromByteBuffer(const grpc::ByteBuffer &buffer) {
    std::vector<uint8_t> out;
    std::vector<grpc::Slice> slices;
    if (!buffer.Dump(&slices).ok()) return out;
    out.reserve(buffer.Length());
    for (const auto &s : slices) out.insert(out.end(), s.begin(), s.end());
    return out;
}

inline bool ReadFile(const char *path, std::string *out, std::string *error) {
    FILE *f = std::fopen(path, "rb");
    if (f == nullptr) {
        *error = std::string("cannot read ") + path + ": " + std::strerror(errno);
        return false;
    }
    char buf[65536];
    size_t n;
    out->clear();
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out->append(buf, n);
    std::fclose(f);
    return true;
}

// grpc core refuses (and grpc++ then asserts on) keys outside [0-9a-z_.-] and non-binary values
// outside printable ASCII, so the bridge checks them first.
inline bool ValidMetadata(const rg_metadata &m) {
    if (m.key == nullptr || m.key[0] == '\0' || (m.value == nullptr && m.value_len > 0)) return false;
    size_t klen = std::strlen(m.key);
    for (size_t i = 0; i < klen; i++) {
        char c = m.key[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        if (!ok) return false;
    }
    bool binary = klen > 4 && std::strcmp(m.key + klen - 4, "-bin") == 0;
    if (!binary) {
        for (size_t i = 0; i < m.value_len; i++) {
            unsigned char c = static_cast<unsigned char>(m.value[i]);
            if (c < 0x20 || c > 0x7e) return false;
        }
    }
    return true;
}

// Implemented in descriptors.cpp: called as a server starts; rg_register_descriptors adds no file after it.
void SealDescriptors();

inline grpc::StatusCode ClampCode(int32_t code) {
    if (code < 0 || code > 16) return grpc::StatusCode::UNKNOWN;
    return static_cast<grpc::StatusCode>(code);
}

// Remaining time until a deadline in ns, or -1 for "no deadline" (grpc uses a far-future time).
inline int64_t RemainingNs(std::chrono::system_clock::time_point deadline) {
    auto now = std::chrono::system_clock::now();
    if (deadline >= now + std::chrono::hours(24 * 365 * 100)) return -1;
    if (deadline <= now) return 0;
    return std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now).count();
}

}  // namespace rg
