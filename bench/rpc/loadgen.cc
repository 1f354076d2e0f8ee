// loadgen: N closed-loop callers of rosetta.v1.Embeddings/Embed (grpc++ callback client; each caller its own
// connection and one call in flight, sending the next request as soon as the answer arrives).
//
//     loadgen --target 127.0.0.1:50051 --sentences FILE [--clients 1] [--batch 1] [--seconds 5] [--warmup 1]
//             [--wait-serving 60]
//
// Request k of a caller carries `batch` consecutive sentences of FILE (one per line), cycling. Every answer is
// checked (status OK, one vector per input). Prints one JSON object: requests/s and items/s over the measured
// window (after `warmup` seconds), end-to-end latency quantiles, the server-reported usage.queue_time_ns and
// compute_time_ns quantiles, and the per-request RPC overhead = latency - queue - compute; all times in µs.
// Also the generator's own CPU time per request (getrusage), so its cost can be read next to the server's.
#include <sys/resource.h>

#include <atomic>
#include <iostream>

#include "common.h"

namespace {

struct Sample {
    int64_t latency, queue, compute;
};

struct Caller {
    std::unique_ptr<rosetta::v1::Embeddings::Stub> stub;
    const std::vector<rosetta::v1::EmbedRequest> *requests = nullptr;
    size_t next = 0;
    int64_t measure_from = 0, stop_at = 0;
    std::unique_ptr<grpc::ClientContext> context;
    rosetta::v1::EmbedResponse response;
    int64_t started = 0;
    size_t expected_items = 0;
    std::vector<Sample> samples;
    int64_t errors = 0, items = 0, total = 0;  // total: every answer, warm-up included
    std::string first_error;
    std::atomic<bool> finished{false};

    void Send() {
        const auto &request = (*requests)[next++ % requests->size()];
        expected_items = static_cast<size_t>(request.inputs_size());
        context = std::make_unique<grpc::ClientContext>();
        response.Clear();
        started = bench::NowNs();
        stub->async()->Embed(context.get(), &request, &response, [this](grpc::Status status) { Done(status); });
    }

    void Done(const grpc::Status &status) {
        int64_t now = bench::NowNs();
        total++;
        bool ok = status.ok() && static_cast<size_t>(response.results_size()) == expected_items;
        for (const auto &r : response.results()) ok = ok && r.status().code() == 0 && r.embedding().float32_size() > 0;
        if (started >= measure_from && now <= stop_at) {
            if (ok) {
                samples.push_back({now - started, static_cast<int64_t>(response.usage().queue_time_ns()),
                                   static_cast<int64_t>(response.usage().compute_time_ns())});
                items += static_cast<int64_t>(expected_items);
            } else {
                errors++;
            }
        }
        if (!ok && first_error.empty())
            first_error = status.ok() ? "bad response" : std::to_string(status.error_code()) + " " + status.error_message();
        if (now < stop_at) {
            Send();
        } else {
            finished.store(true);
        }
    }
};

}  // namespace

int main(int argc, char **argv) {
    std::string target = bench::Flag(argc, argv, "target", "127.0.0.1:50051");
    int clients = std::atoi(bench::Flag(argc, argv, "clients", "1").c_str());
    int batch = std::atoi(bench::Flag(argc, argv, "batch", "1").c_str());
    double seconds = std::atof(bench::Flag(argc, argv, "seconds", "5").c_str());
    double warmup = std::atof(bench::Flag(argc, argv, "warmup", "1").c_str());
    double wait_serving = std::atof(bench::Flag(argc, argv, "wait-serving", "60").c_str());
    auto sentences = bench::ReadLines(bench::Flag(argc, argv, "sentences", ""));
    if (sentences.empty() || clients < 1 || batch < 1) {
        std::cerr << "loadgen: need --sentences FILE (non-empty), --clients >= 1, --batch >= 1\n";
        return 2;
    }

    // Wait until the server reports SERVING (models loaded).
    {
        grpc::GenericStub health(bench::NewChannel(target));
        int64_t deadline = bench::NowNs() + static_cast<int64_t>(wait_serving * 1e9);
        while (bench::HealthStatus(health, 1000) != 1) {
            if (bench::NowNs() > deadline) {
                std::cerr << "loadgen: " << target << " not SERVING after " << wait_serving << " s\n";
                return 1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    std::vector<rosetta::v1::EmbedRequest> requests(sentences.size());
    for (size_t k = 0; k < requests.size(); k++)
        for (int j = 0; j < batch; j++) requests[k].add_inputs()->set_text(sentences[(k * batch + j) % sentences.size()]);

    std::vector<std::unique_ptr<Caller>> callers;
    for (int i = 0; i < clients; i++) {
        auto caller = std::make_unique<Caller>();
        auto channel = bench::NewChannel(target);
        if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
            std::cerr << "loadgen: cannot connect to " << target << "\n";
            return 1;
        }
        caller->stub = rosetta::v1::Embeddings::NewStub(channel);
        caller->requests = &requests;
        caller->next = static_cast<size_t>(i) * 7;  // callers start at different sentences
        callers.push_back(std::move(caller));
    }
    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    int64_t start = bench::NowNs();
    int64_t measure_from = start + static_cast<int64_t>(warmup * 1e9);
    int64_t stop_at = measure_from + static_cast<int64_t>(seconds * 1e9);
    for (auto &c : callers) {
        c->measure_from = measure_from;
        c->stop_at = stop_at;
    }
    for (auto &c : callers) c->Send();
    for (auto &c : callers)
        while (!c->finished.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    rusage after{};
    getrusage(RUSAGE_SELF, &after);

    std::vector<int64_t> latency, queue, compute, overhead;
    int64_t errors = 0, items = 0, total = 0;
    std::string first_error;
    for (auto &c : callers) {
        total += c->total;
        for (const auto &s : c->samples) {
            latency.push_back(s.latency);
            queue.push_back(s.queue);
            compute.push_back(s.compute);
            overhead.push_back(s.latency - s.queue - s.compute);
        }
        errors += c->errors;
        items += c->items;
        if (first_error.empty()) first_error = c->first_error;
    }
    auto cpu = [](const rusage &r) {
        return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
    };
    double n = static_cast<double>(latency.size());
    auto us = [](double ns) { return ns / 1e3; };
    std::ostringstream json;
    json << "{\"clients\": " << clients << ", \"batch\": " << batch << ", \"seconds\": " << seconds
         << ", \"requests\": " << latency.size() << ", \"errors\": " << errors << ", \"rps\": " << n / seconds
         << ", \"items_per_s\": " << items / seconds;
    for (auto [name, v] : {std::pair{"latency", &latency}, {"queue", &queue}, {"compute", &compute}, {"overhead", &overhead}}) {
        json << ", \"" << name << "_p50_us\": " << us(bench::Quantile(*v, 0.5)) << ", \"" << name
             << "_p99_us\": " << us(bench::Quantile(*v, 0.99));
    }
    json << ", \"client_cpu_us_per_request\": " << (total > 0 ? (cpu(after) - cpu(before)) * 1e6 / static_cast<double>(total) : 0)
         << ", \"first_error\": \"" << (first_error.empty() ? "" : "see stderr") << "\"}";
    if (!first_error.empty()) std::cerr << "loadgen: first error: " << first_error << "\n";
    std::cout << json.str() << std::endl;
    return 0;
}
