// Helpers shared by the C++ benchmark tools (echo-server, loadgen, startup-probe).
#pragma once

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "rosetta/v1/embeddings.grpc.pb.h"

namespace bench {

inline int64_t NowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// The value at quantile q (0..1) of `v` (sorted in place); 0 for an empty vector.
inline double Quantile(std::vector<int64_t> &v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    return static_cast<double>(v[std::min(i, v.size() - 1)]);
}

// "--name value" from argv, or `fallback`.
inline std::string Flag(int argc, char **argv, const std::string &name, const std::string &fallback) {
    for (int i = 1; i + 1 < argc; i++)
        if (argv[i] == "--" + name) return argv[i + 1];
    return fallback;
}

// Non-empty lines of a file.
inline std::vector<std::string> ReadLines(const std::string &path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) lines.push_back(line);
    return lines;
}

// A plaintext channel with its own connection (a private subchannel pool), so N clients are N connections.
inline std::shared_ptr<grpc::Channel> NewChannel(const std::string &target) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetMaxReceiveMessageSize(-1);
    return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

// grpc.health.v1.Health/Check for the whole server ("" service): 1 SERVING, 2 NOT_SERVING, -1 no answer.
// Encoded by hand (the request is empty; the response is field 1, a varint) to need no health stubs.
inline int HealthStatus(grpc::GenericStub &stub, int timeout_ms) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
    grpc::ByteBuffer request, response;
    grpc::Slice empty;
    request = grpc::ByteBuffer(&empty, 1);
    grpc::Status status;
    bool done = false;
    std::mutex mu;
    std::condition_variable cv;
    stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                   [&](grpc::Status s) {
                       std::lock_guard<std::mutex> lock(mu);
                       status = s;
                       done = true;
                       cv.notify_all();
                   });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
    if (!status.ok()) return -1;
    std::vector<grpc::Slice> slices;
    if (!response.Dump(&slices).ok()) return -1;
    std::string bytes;
    for (auto &s : slices) bytes.append(reinterpret_cast<const char *>(s.begin()), s.size());
    if (bytes.size() >= 2 && bytes[0] == 0x08) return bytes[1];
    return 0;  // UNKNOWN (field absent)
}

}  // namespace bench
