// echo-server: the reference for bench/rpc — a bare grpc++ server of rosetta.v1.Embeddings/Embed with the
// generated callback service (what a hand-written grpc++ server looks like), answering every Embed with a
// response shaped like Rosetta's (model, space, one 384-float vector per input with index, status, modality
// and token count, usage). Without --work-us it does no work: its latency is grpc++'s own RPC cost (transport,
// HTTP/2, protobuf decode/encode) on this machine. With --work-us N its handler first works N µs on
// --work-threads threads (the handler's and a pool's, woken per request), each reading through its share of
// --work-bytes of memory: a grpc++ server doing as long and as memory-hungry a computation as a model forward.
//
//     echo-server [--address 127.0.0.1:0] [--dims 384] [--work-us 0 --work-threads 1 --work-bytes 0]
//
// Prints "echo-server listening on 127.0.0.1:<port>" once it accepts calls; runs until killed.
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "common.h"

namespace {

using Clock = std::chrono::steady_clock;

// Busy work on `threads` threads (the caller and threads - 1 pool threads) until a deadline, each reading one
// float per cache line of its share of `bytes` of memory, round after round.
class Work {
  public:
    Work(int threads, size_t bytes) : threads_(threads < 1 ? 1 : threads), memory_(bytes / sizeof(float), 1.0f) {
        for (int t = 1; t < threads_; t++) pool_.emplace_back([this, t] { Helper(t); });
    }

    void Run(std::chrono::microseconds duration) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            until_ = Clock::now() + duration;
            generation_++;
            running_ = threads_ - 1;
        }
        wake_.notify_all();
        Share(0);
        std::unique_lock<std::mutex> lock(mu_);
        done_.wait(lock, [this] { return running_ == 0; });
    }

  private:
    void Helper(int t) {
        uint64_t seen = 0;
        for (;;) {
            {
                std::unique_lock<std::mutex> lock(mu_);
                wake_.wait(lock, [this, seen] { return generation_ != seen; });
                seen = generation_;
            }
            Share(t);
            std::lock_guard<std::mutex> lock(mu_);
            if (--running_ == 0) done_.notify_one();
        }
    }

    void Share(int t) {
        Clock::time_point until;
        {
            std::lock_guard<std::mutex> lock(mu_);
            until = until_;
        }
        size_t share = memory_.size() / threads_;
        const float *begin = memory_.data() + t * share;
        float sum = 0;
        do {
            for (size_t i = 0; i < share; i += 16) {
                sum += begin[i];
                if (i % 8192 == 0 && Clock::now() >= until) break;
            }
        } while (Clock::now() < until);
        sink_.store(sum, std::memory_order_relaxed);
    }

    const int threads_;
    std::vector<float> memory_;
    std::vector<std::thread> pool_;
    std::mutex mu_;
    std::condition_variable wake_, done_;
    Clock::time_point until_;
    uint64_t generation_ = 0;
    int running_ = 0;
    std::atomic<float> sink_{0};
};

class EchoEmbeddings final : public rosetta::v1::Embeddings::CallbackService {
  public:
    EchoEmbeddings(int dims, int work_us, int work_threads, size_t work_bytes)
        : work_us_(work_us), work_(work_threads, work_bytes) {
        // A fixed unit vector (any values serialise to the same size as Rosetta's 384 floats).
        vector_.resize(dims);
        for (int i = 0; i < dims; i++) vector_[i] = static_cast<float>(std::sin(i + 1.0) / std::sqrt(dims / 2.0));
    }

    grpc::ServerUnaryReactor *Embed(grpc::CallbackServerContext *context, const rosetta::v1::EmbedRequest *request,
                                    rosetta::v1::EmbedResponse *response) override {
        if (work_us_ > 0) work_.Run(std::chrono::microseconds(work_us_));
        response->set_model("all-minilm-l6-v2");
        response->set_space(kSpace);
        response->set_request_id(request->request_id());
        uint64_t tokens = 0;
        for (int i = 0; i < request->inputs_size(); i++) {
            auto *result = response->add_results();
            result->set_index(static_cast<uint32_t>(i));
            result->mutable_status();
            result->set_modality(rosetta::v1::MODALITY_TEXT);
            // Words + punctuation + [CLS]/[SEP]: the bench sentences are one word-piece per word.
            uint32_t words = 1;
            for (char c : request->inputs(i).text()) words += c == ' ' || c == '.' || c == ',';
            result->set_tokens(words + 2);
            tokens += words + 2;
            auto *embedding = result->mutable_embedding();
            embedding->mutable_float32()->Add(vector_.begin(), vector_.end());
            embedding->set_dimensions(static_cast<uint32_t>(vector_.size()));
        }
        response->mutable_usage()->set_items(static_cast<uint64_t>(request->inputs_size()));
        response->mutable_usage()->set_tokens(tokens);
        auto *reactor = context->DefaultReactor();
        reactor->Finish(grpc::Status::OK);
        return reactor;
    }

  private:
    // Same length as Rosetta's space fingerprint.
    static constexpr const char *kSpace = "text:all-minilm-l6-v2:0123456789abcdef";
    std::vector<float> vector_;
    int work_us_;
    Work work_;
};

}  // namespace

int main(int argc, char **argv) {
    std::string address = bench::Flag(argc, argv, "address", "127.0.0.1:0");
    int dims = std::atoi(bench::Flag(argc, argv, "dims", "384").c_str());
    int work_us = std::atoi(bench::Flag(argc, argv, "work-us", "0").c_str());
    int work_threads = std::atoi(bench::Flag(argc, argv, "work-threads", "1").c_str());
    size_t work_bytes = std::strtoull(bench::Flag(argc, argv, "work-bytes", "0").c_str(), nullptr, 10);
    EchoEmbeddings service(dims, work_us, work_threads, work_bytes);
    grpc::EnableDefaultHealthCheckService(true);  // "" SERVING, as loadgen waits for
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    auto server = builder.BuildAndStart();
    if (!server || port == 0) {
        std::cerr << "echo-server: could not listen on " << address << "\n";
        return 1;
    }
    std::cout << "echo-server listening on " << address.substr(0, address.rfind(':')) << ":" << port << std::endl;
    server->Wait();
}
