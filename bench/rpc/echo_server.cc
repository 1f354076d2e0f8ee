// echo-server: the reference for bench/rpc — a bare grpc++ server of rosetta.v1.Embeddings/Embed with the
// generated callback service (what a hand-written grpc++ server looks like), answering every Embed with a
// response shaped like Rosetta's (model, space, one 384-float vector per input with index, status, modality
// and token count, usage) and doing no model work: its latency is grpc++'s own RPC cost (transport, HTTP/2,
// protobuf decode/encode) on this machine.
//
//     echo-server [--address 127.0.0.1:0] [--dims 384]
//
// Prints "echo-server listening on 127.0.0.1:<port>" once it accepts calls; runs until killed.
#include <cmath>
#include <iostream>

#include "common.h"

namespace {

class EchoEmbeddings final : public rosetta::v1::Embeddings::CallbackService {
  public:
    explicit EchoEmbeddings(int dims) {
        // A fixed unit vector (any values serialise to the same size as Rosetta's 384 floats).
        vector_.resize(dims);
        for (int i = 0; i < dims; i++) vector_[i] = static_cast<float>(std::sin(i + 1.0) / std::sqrt(dims / 2.0));
    }

    grpc::ServerUnaryReactor *Embed(grpc::CallbackServerContext *context, const rosetta::v1::EmbedRequest *request,
                                    rosetta::v1::EmbedResponse *response) override {
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
};

}  // namespace

int main(int argc, char **argv) {
    std::string address = bench::Flag(argc, argv, "address", "127.0.0.1:0");
    int dims = std::atoi(bench::Flag(argc, argv, "dims", "384").c_str());
    EchoEmbeddings service(dims);
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
