// The descriptors grpc++ reflection describes, handed over as bytes (rg_register_descriptors).
//
// grpc++'s reflection service (Debian grpc 1.51) answers from protobuf's generated pool only, and the one
// public way into that pool is DescriptorPool::InternalAddGeneratedFile: what every generated .pb.cc calls at
// load time with its serialized FileDescriptorProto. Calling it here instead lets the bridge serve the
// embedder's .proto files without linking any generated C++ code, so it knows no message of its own.
//
// InternalAddGeneratedFile aborts the process when a file fails to parse or clashes with one already
// registered, and it takes no lock, so this file checks everything first and seals the pool once a
// server starts.

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/descriptor_database.h>

#include <climits>
#include <deque>
#include <mutex>
#include <set>

#include "bridge_util.h"

namespace pb = google::protobuf;

namespace {

// What this process registered. Never destroyed: the generated pool keeps pointers into `files` for good.
struct Registry {
    std::mutex mu;
    std::set<std::string> names;    // in the generated pool, whether added here or found there
    std::deque<std::string> files;  // serialized FileDescriptorProtos handed to InternalAddGeneratedFile
    bool sealed = false;            // a server has started: the pool may be read concurrently from now on
};

Registry &SharedRegistry() {
    static Registry *registry = new Registry();
    return *registry;
}

// Keeps the first error a scratch pool reports while it builds the set.
class FirstError final : public pb::DescriptorPool::ErrorCollector {
  public:
    void AddError(const std::string &filename, const std::string &element, const pb::Message *,
                  ErrorLocation, const std::string &message) override {
        if (text.empty()) text = filename + ": " + element + ": " + message;
    }
    std::string text;
};

// The top-level symbols of `file` (what the generated database indexes, and where two files can clash).
std::vector<std::string> TopLevelSymbols(const pb::FileDescriptorProto &file) {
    std::string prefix = file.package().empty() ? "" : file.package() + ".";
    std::vector<std::string> symbols;
    for (const auto &m : file.message_type()) symbols.push_back(prefix + m.name());
    for (const auto &e : file.enum_type()) symbols.push_back(prefix + e.name());
    for (const auto &s : file.service()) symbols.push_back(prefix + s.name());
    for (const auto &x : file.extension()) symbols.push_back(prefix + x.name());
    return symbols;
}

// Checks that every file of `set` would build in the generated pool: its imports are in the set or the
// pool, and its types resolve. A scratch pool reads the set first, then the generated database (read
// only: nothing is built in the generated pool). Returns "" or the reason.
std::string CheckBuilds(const pb::FileDescriptorSet &set) {
    pb::SimpleDescriptorDatabase given;
    for (const auto &file : set.file()) {
        if (!given.Add(file)) return "file " + file.name() + " appears twice in the set";
    }
    pb::MergedDescriptorDatabase merged(&given, pb::DescriptorPool::internal_generated_database());
    FirstError errors;
    pb::DescriptorPool scratch(&merged, &errors);
    for (const auto &file : set.file()) {
        if (scratch.FindFileByName(file.name()) == nullptr) {
            return errors.text.empty() ? "file " + file.name() + " does not build" : errors.text;
        }
    }
    return "";
}

int Register(const uint8_t *bytes, size_t len, std::string *why) {
    pb::FileDescriptorSet set;
    if (len > INT_MAX || !set.ParseFromArray(bytes, static_cast<int>(len))) {
        *why = "not a serialized google.protobuf.FileDescriptorSet";
        return RG_ERR_INVALID;
    }
    Registry &registry = SharedRegistry();
    std::lock_guard<std::mutex> lock(registry.mu);
    bool anything_new = false;
    for (const auto &file : set.file()) anything_new = anything_new || registry.names.count(file.name()) == 0;
    if (!anything_new) return RG_OK;  // a repeated call: the pool is not touched
    if (registry.sealed) {
        *why = "descriptors must be registered before the first server starts";
        return RG_ERR_INVALID;
    }
    *why = CheckBuilds(set);
    if (!why->empty()) return RG_ERR_INVALID;

    // Files the pool already has are skipped (protobuf's own google/protobuf/*.proto are linked into
    // libprotobuf); the others must not redefine a symbol it has. Nothing is added unless all pass.
    pb::DescriptorDatabase *generated = pb::DescriptorPool::internal_generated_database();
    std::vector<const pb::FileDescriptorProto *> added;
    for (const auto &file : set.file()) {
        pb::FileDescriptorProto existing;
        if (registry.names.count(file.name()) != 0 || generated->FindFileByName(file.name(), &existing)) continue;
        for (const auto &symbol : TopLevelSymbols(file)) {
            if (generated->FindFileContainingSymbol(symbol, &existing)) {
                *why = file.name() + ": " + symbol + " is already defined by " + existing.name();
                return RG_ERR_INVALID;
            }
        }
        added.push_back(&file);
    }
    for (const auto &file : set.file()) registry.names.insert(file.name());
    for (const auto *file : added) {
        registry.files.push_back(file->SerializeAsString());
        const std::string &stored = registry.files.back();
        pb::DescriptorPool::InternalAddGeneratedFile(stored.data(), static_cast<int>(stored.size()));
    }
    return RG_OK;
}

}  // namespace

namespace rg {
void SealDescriptors() {
    Registry &registry = SharedRegistry();
    std::lock_guard<std::mutex> lock(registry.mu);
    registry.sealed = true;
}
}  // namespace rg

// MARK: - C API: descriptors

extern "C" {

int rg_register_descriptors(const uint8_t *descriptor_set, size_t len, char *error, size_t error_cap) {
    if (descriptor_set == nullptr && len > 0) {
        rg::SetError(error, error_cap, "NULL descriptor set");
        return RG_ERR_INVALID;
    }
    try {
        std::string why;
        int result = Register(descriptor_set, len, &why);
        if (result != RG_OK) rg::SetError(error, error_cap, why);
        return result;
    } catch (const std::exception &e) {
        rg::SetError(error, error_cap, std::string("protobuf threw: ") + e.what());
        return RG_ERR_INTERNAL;
    } catch (...) {
        rg::SetError(error, error_cap, "protobuf threw an unknown exception");
        return RG_ERR_INTERNAL;
    }
}

}  // extern "C"
