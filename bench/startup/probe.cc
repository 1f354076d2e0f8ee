// startup-probe: cold start and memory of rosetta-server (bench/startup).
//
//     startup-probe --sentences FILE [--media kind:model:path]... [--warm-requests 300] [--log FILE]
//                   [--smaps FILE]
//                   -- /path/to/rosetta-server --address 127.0.0.1:0 --models-dir models ...
//
// Execs the server (posix_spawn; the clock starts just before), reads its "rosetta-server listening on ADDR"
// stdout line, polls grpc.health.v1 Check every millisecond until SERVING, then sends one text Embed. Reads
// /proc/<pid>/status (VmRSS, RssAnon, RssFile, VmHWM) after that first answer, asks Info which models are
// loaded, sends warm-up traffic (text at batch 1 and 32; then each --media: image or audio, model id or empty for
// the default) and reads RSS again.
// Stops the server with SIGTERM. Prints one JSON object (times in ms, memory in bytes).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <map>

#include "common.h"

extern char **environ;

namespace {

// VmRSS, RssAnon, RssFile, VmHWM of `pid` in bytes.
std::map<std::string, int64_t> Memory(pid_t pid) {
    std::map<std::string, int64_t> out;
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);) {
        for (const char *key : {"VmRSS", "RssAnon", "RssFile", "VmHWM"}) {
            if (line.rfind(std::string(key) + ":", 0) == 0) out[key] = std::atoll(line.c_str() + std::strlen(key) + 1) * 1024;
        }
    }
    return out;
}

std::string ReadFile(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::string> Flags(int argc, char **argv, const std::string &name) {
    std::vector<std::string> out;
    for (int i = 1; i + 1 < argc && std::string(argv[i]) != "--"; i++)
        if (argv[i] == "--" + name) out.push_back(argv[i + 1]);
    return out;
}

bool Embed(rosetta::v1::Embeddings::Stub &stub, const rosetta::v1::EmbedRequest &request, std::string *error) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    rosetta::v1::EmbedResponse response;
    grpc::Status status = stub.Embed(&context, request, &response);
    if (!status.ok()) {
        *error = std::to_string(status.error_code()) + " " + status.error_message();
        return false;
    }
    for (const auto &r : response.results()) {
        if (r.status().code() != 0) {
            *error = "input " + std::to_string(r.index()) + ": " + r.status().message();
            return false;
        }
    }
    return true;
}

void Json(std::ostringstream &json, const std::string &prefix, const std::map<std::string, int64_t> &memory) {
    for (const auto &[key, value] : memory) json << ", \"" << prefix << key << "\": " << value;
}

}  // namespace

int main(int argc, char **argv) {
    int dashdash = 1;
    while (dashdash < argc && std::string(argv[dashdash]) != "--") dashdash++;
    if (dashdash + 1 >= argc) {
        std::cerr << "startup-probe: give the server command after --\n";
        return 2;
    }
    auto sentences = bench::ReadLines(bench::Flag(dashdash, argv, "sentences", ""));
    int warm_requests = std::atoi(bench::Flag(dashdash, argv, "warm-requests", "300").c_str());
    std::string log = bench::Flag(dashdash, argv, "log", "/dev/null");
    if (sentences.empty()) {
        std::cerr << "startup-probe: need --sentences FILE\n";
        return 2;
    }

    int out[2];
    if (pipe(out) != 0) return 1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = 0;
    int64_t t0 = bench::NowNs();
    if (posix_spawn(&pid, argv[dashdash + 1], &actions, nullptr, argv + dashdash + 1, environ) != 0) {
        std::cerr << "startup-probe: cannot exec " << argv[dashdash + 1] << "\n";
        return 1;
    }
    close(out[1]);
    auto stop = [&] {
        kill(pid, SIGTERM);
        int status = 0;
        waitpid(pid, &status, 0);
    };

    // The listening line.
    FILE *stdout_of_server = fdopen(out[0], "r");
    std::string address;
    char line[1024];
    const std::string marker = "rosetta-server listening on ";
    while (address.empty() && std::fgets(line, sizeof line, stdout_of_server) != nullptr) {
        std::string text(line);
        if (text.rfind(marker, 0) == 0) address = text.substr(marker.size(), text.find_last_not_of("\r\n") + 1 - marker.size());
    }
    int64_t t_listening = bench::NowNs();
    if (address.empty()) {
        std::cerr << "startup-probe: the server exited before listening (see " << log << ")\n";
        stop();
        return 1;
    }
    // Keep draining its stdout so it never blocks on a full pipe.
    std::thread([stdout_of_server] {
        char buffer[1024];
        while (std::fgets(buffer, sizeof buffer, stdout_of_server) != nullptr) {
        }
    }).detach();

    auto channel = bench::NewChannel(address);
    grpc::GenericStub health(channel);
    int64_t t_serving = 0;
    for (;;) {
        if (bench::HealthStatus(health, 200) == 1) {
            t_serving = bench::NowNs();
            break;
        }
        if (bench::NowNs() - t0 > 120'000'000'000LL || waitpid(pid, nullptr, WNOHANG) == pid) {
            std::cerr << "startup-probe: never SERVING (see " << log << ")\n";
            stop();
            return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    auto stub = rosetta::v1::Embeddings::NewStub(channel);
    rosetta::v1::EmbedRequest one;
    one.add_inputs()->set_text(sentences[0]);
    std::string error;
    if (!Embed(*stub, one, &error)) {
        std::cerr << "startup-probe: first Embed failed: " << error << "\n";
        stop();
        return 1;
    }
    int64_t t_first = bench::NowNs();
    auto loaded = Memory(pid);

    // Which models are loaded.
    std::vector<std::string> models;
    {
        grpc::ClientContext context;
        rosetta::v1::InfoResponse info;
        if (stub->Info(&context, rosetta::v1::InfoRequest(), &info).ok())
            for (const auto &m : info.models()) models.push_back(m.id());
    }

    // Warm-up traffic: every modality the default models serve.
    int64_t warm_started = bench::NowNs();
    int sent = 0;
    for (int k = 0; k < warm_requests; k++) {
        rosetta::v1::EmbedRequest request;
        int batch = k % 10 == 9 ? 32 : 1;
        for (int j = 0; j < batch; j++) request.add_inputs()->set_text(sentences[(k * 32 + j) % sentences.size()]);
        if (!Embed(*stub, request, &error)) {
            std::cerr << "startup-probe: warm-up text Embed failed: " << error << "\n";
            stop();
            return 1;
        }
        sent++;
    }
    for (const auto &spec : Flags(dashdash, argv, "media")) {
        // kind:model:path (model empty: the server's default for the modality)
        size_t a = spec.find(':'), b = spec.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos) {
            std::cerr << "startup-probe: --media wants kind:model:path, got " << spec << "\n";
            stop();
            return 2;
        }
        std::string kind = spec.substr(0, a), path = spec.substr(b + 1);
        rosetta::v1::EmbedRequest request;
        request.set_model(spec.substr(a + 1, b - a - 1));
        auto *media = kind == "image" ? request.add_inputs()->mutable_image() : request.add_inputs()->mutable_audio();
        media->set_data(ReadFile(path));
        if (!Embed(*stub, request, &error)) {
            std::cerr << "startup-probe: warm-up " << spec << " failed: " << error << "\n";
            stop();
            return 1;
        }
        sent++;
    }
    int64_t warm_ended = bench::NowNs();
    auto warm = Memory(pid);
    std::string smaps = bench::Flag(dashdash, argv, "smaps", "");
    if (!smaps.empty()) {
        std::ifstream in("/proc/" + std::to_string(pid) + "/smaps");
        std::ofstream(smaps) << in.rdbuf();
    }
    stop();

    std::ostringstream json;
    json << "{\"listening_ms\": " << (t_listening - t0) / 1e6 << ", \"serving_ms\": " << (t_serving - t0) / 1e6
         << ", \"first_embed_ms\": " << (t_first - t0) / 1e6 << ", \"warm_requests\": " << sent
         << ", \"warm_seconds\": " << (warm_ended - warm_started) / 1e9 << ", \"models\": [";
    for (size_t i = 0; i < models.size(); i++) json << (i ? ", " : "") << "\"" << models[i] << "\"";
    json << "]";
    Json(json, "loaded_", loaded);
    Json(json, "warm_", warm);
    json << "}";
    std::cout << json.str() << std::endl;
    return 0;
}
