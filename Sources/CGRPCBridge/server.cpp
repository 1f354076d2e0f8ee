// Server half of the bridge: one grpc++ callback server whose every call is an `rg_call` reactor
// handing bytes to the embedder (Swift) through two C callbacks.
//
// Calls reach an rg_call two ways, both with the same reactor type:
// - methods named in rg_server_options.method_names are registered as "raw callback" bidi methods
//   of one grpc::Service per service name. That is what generated code does, and it is what makes
//   grpc++ reflection and health list our services (reflection lists registered services only);
// - every other method reaches a grpc::CallbackGenericService, so the embedder still sees the call
//   and answers UNIMPLEMENTED itself.
// All methods are declared BIDI_STREAMING: on the wire a unary call is a stream of one message. For the
// methods named unary (rg_server_options.unary_method_names) the bridge reads that message and the
// half-close before on_call, so the embedder can answer at once, on the same thread; for the others the
// embedder reads on demand and enforces the message count.

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "bridge_util.h"
#include "server_call.h"

using grpc::ByteBuffer;

// MARK: - Server

namespace {

// The registered services: one per service name, every method a raw-callback bidi method.
class RawService final : public grpc::Service {
  public:
    template <class Factory>
    RawService(const std::vector<std::string> &methods, Factory factory) {
        for (const auto &m : methods) {
            names_.push_back(m);  // RpcMethod keeps the char pointer: the deque keeps it stable
            const std::string *name = &names_.back();
            AddMethod(new grpc::internal::RpcServiceMethod(name->c_str(), grpc::internal::RpcMethod::BIDI_STREAMING,
                                                           nullptr));
            MarkMethodRawCallback(
                static_cast<int>(names_.size() - 1),
                new grpc::internal::CallbackBidiHandler<ByteBuffer, ByteBuffer>(
                    [factory, name](grpc::CallbackServerContext *context) { return factory(context, *name); }));
        }
    }

  private:
    std::deque<std::string> names_;
};

class GenericService final : public grpc::CallbackGenericService {
  public:
    explicit GenericService(rg_server *server) : server_(server) {}
    grpc::ServerGenericBidiReactor *CreateReactor(grpc::GenericCallbackServerContext *context) override;

  private:
    rg_server *server_;
};

// "/pkg.Service/Method" -> "pkg.Service", or "" when malformed.
std::string ServiceName(const std::string &method) {
    if (method.size() < 4 || method[0] != '/') return "";
    size_t slash = method.find('/', 1);
    if (slash == std::string::npos || slash == 1 || slash + 1 == method.size()) return "";
    if (method.find('/', slash + 1) != std::string::npos) return "";
    return method.substr(1, slash - 1);
}

}  // namespace

struct rg_server {
    rg_on_call_fn on_call = nullptr;
    rg_on_event_fn on_event = nullptr;
    void *context = nullptr;
    std::vector<int> ports;
    std::vector<std::string> service_names;
    std::set<std::string> unary_methods;
    std::vector<std::unique_ptr<RawService>> services;
    std::unique_ptr<GenericService> generic;
    std::unique_ptr<grpc::Server> server;

    std::mutex mu;
    std::condition_variable calls_cv;
    int live_calls = 0;  // reactors grpc has not finished with (OnDone pending)
    bool shut_down = false;

    rg_call *NewCall(grpc::ServerContextBase *context, const std::string &method) {
        bool draining;
        {
            std::lock_guard<std::mutex> lock(mu);
            live_calls++;
            draining = shut_down;
        }
        auto *call = new rg_call(this, context, method);
        if (draining) {
            // Refused without reaching the embedder: no user pointer, so events go nowhere.
            call->Bind(nullptr);
            call->RequestFinish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
            call->Unref();  // the embedder's reference
            return call;
        }
        if (unary_methods.count(method) != 0) {
            call->CollectRequest();  // on_call once the request is here
        } else {
            Deliver(call, {});
        }
        return call;
    }

    void Deliver(rg_call *call, rg::UnaryRequest request) {
        grpc::ServerContextBase *context = call->context();
        std::vector<std::string> storage;
        std::vector<rg_metadata> metadata;
        const auto &client = context->client_metadata();
        storage.reserve(client.size() * 2);
        for (const auto &kv : client) {
            storage.emplace_back(kv.first.data(), kv.first.size());
            storage.emplace_back(kv.second.data(), kv.second.size());
        }
        for (size_t i = 0; i + 1 < storage.size(); i += 2) {
            metadata.push_back({storage[i].c_str(), storage[i + 1].data(), storage[i + 1].size()});
        }
        std::string peer = context->peer();
        rg_call_info info{call->method().c_str(), peer.c_str(), metadata.data(), metadata.size(),
                          rg::RemainingNs(context->deadline()), request.read, request.bytes, request.len};
        void *user = on_call(this->context, call, &info);
        call->Bind(user);
    }

    void CallDone() {
        std::lock_guard<std::mutex> lock(mu);
        live_calls--;
        calls_cv.notify_all();
    }
};

grpc::ServerGenericBidiReactor *GenericService::CreateReactor(grpc::GenericCallbackServerContext *context) {
    return server_->NewCall(context, context->method());
}

namespace rg {
void ServerEmit(rg_server *server, void *user, rg_event_kind kind, const uint8_t *bytes, size_t len) {
    server->on_event(user, kind, bytes, len);
}
void ServerCallDone(rg_server *server) { server->CallDone(); }
void ServerDeliver(rg_server *server, rg_call *call, UnaryRequest request) { server->Deliver(call, request); }
}  // namespace rg

// MARK: - C API: server

extern "C" {

void rg_server_options_init(rg_server_options *options) {
    if (options != nullptr) std::memset(options, 0, sizeof *options);
}

rg_server *rg_server_start(const rg_server_options *o, char *error, size_t error_cap) {
    try {
        if (o == nullptr || o->on_call == nullptr || o->on_event == nullptr || o->listen_address_count == 0 ||
            o->listen_addresses == nullptr || (o->method_count > 0 && o->method_names == nullptr) ||
            (o->unary_method_count > 0 && o->unary_method_names == nullptr)) {
            rg::SetError(error, error_cap, "invalid options: need listen addresses, on_call and on_event");
            return nullptr;
        }
        auto s = std::make_unique<rg_server>();
        s->on_call = o->on_call;
        s->on_event = o->on_event;
        s->context = o->context;

        // Credentials.
        std::shared_ptr<grpc::ServerCredentials> credentials;
        if (o->tls_certificate_chain_path != nullptr || o->tls_private_key_path != nullptr) {
            if (o->tls_certificate_chain_path == nullptr || o->tls_private_key_path == nullptr) {
                rg::SetError(error, error_cap, "TLS needs both a certificate chain and a private key");
                return nullptr;
            }
            grpc::SslServerCredentialsOptions ssl;
            grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
            std::string why;
            if (!rg::ReadFile(o->tls_private_key_path, &pair.private_key, &why) ||
                !rg::ReadFile(o->tls_certificate_chain_path, &pair.cert_chain, &why)) {
                rg::SetError(error, error_cap, why);
                return nullptr;
            }
            ssl.pem_key_cert_pairs.push_back(pair);
            if (o->tls_client_ca_path != nullptr) {
                if (!rg::ReadFile(o->tls_client_ca_path, &ssl.pem_root_certs, &why)) {
                    rg::SetError(error, error_cap, why);
                    return nullptr;
                }
                ssl.client_certificate_request = o->tls_require_client_cert
                                                     ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                                     : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
            }
            credentials = grpc::SslServerCredentials(ssl);
        } else {
            credentials = grpc::InsecureServerCredentials();
        }

        // Registered methods, grouped by service.
        std::map<std::string, std::vector<std::string>> by_service;
        for (size_t i = 0; i < o->method_count; i++) {
            std::string method = o->method_names[i] ? o->method_names[i] : "";
            std::string service = ServiceName(method);
            if (service.empty()) {
                rg::SetError(error, error_cap, "malformed method name '" + method + "' (want /pkg.Service/Method)");
                return nullptr;
            }
            auto &list = by_service[service];
            if (std::find(list.begin(), list.end(), method) == list.end()) list.push_back(method);
        }
        for (size_t i = 0; i < o->unary_method_count; i++) {
            std::string method = o->unary_method_names[i] ? o->unary_method_names[i] : "";
            auto service = by_service.find(ServiceName(method));
            if (service == by_service.end() ||
                std::find(service->second.begin(), service->second.end(), method) == service->second.end()) {
                rg::SetError(error, error_cap, "unary method '" + method + "' is not among the method names");
                return nullptr;
            }
            s->unary_methods.insert(method);
        }
        rg_server *raw = s.get();
        auto factory = [raw](grpc::CallbackServerContext *context, const std::string &method) {
            return static_cast<grpc::ServerBidiReactor<ByteBuffer, ByteBuffer> *>(raw->NewCall(context, method));
        };

        // These process-wide switches must be set before BuildAndStart.
        grpc::EnableDefaultHealthCheckService(true);
        grpc::reflection::InitProtoReflectionServerBuilderPlugin();
        // Reflection reads protobuf's generated pool from now on: rg_register_descriptors adds no more.
        rg::SealDescriptors();

        grpc::ServerBuilder builder;
        s->ports.assign(o->listen_address_count, 0);
        for (size_t i = 0; i < o->listen_address_count; i++) {
            if (o->listen_addresses[i] == nullptr) {
                rg::SetError(error, error_cap, "NULL listen address");
                return nullptr;
            }
            builder.AddListeningPort(o->listen_addresses[i], credentials, &s->ports[i]);
        }
        // grpc sets SO_REUSEPORT by default, so a second server on a busy port would "succeed" and
        // share it. A port in use must be an error.
        builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
        if (o->max_receive_message_bytes != 0) builder.SetMaxReceiveMessageSize(o->max_receive_message_bytes);
        if (o->max_send_message_bytes != 0) builder.SetMaxSendMessageSize(o->max_send_message_bytes);
        if (o->max_concurrent_streams > 0)
            builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, o->max_concurrent_streams);
        if (o->keepalive_time_ms > 0) builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, o->keepalive_time_ms);
        if (o->keepalive_timeout_ms > 0)
            builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, o->keepalive_timeout_ms);
        if (o->keepalive_min_client_interval_ms > 0) {
            builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                                       o->keepalive_min_client_interval_ms);
            builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
        }

        for (auto &entry : by_service) {
            s->service_names.push_back(entry.first);
            s->services.push_back(std::make_unique<RawService>(entry.second, factory));
            builder.RegisterService(s->services.back().get());
        }
        s->generic = std::make_unique<GenericService>(raw);
        builder.RegisterCallbackGenericService(s->generic.get());

        s->server = builder.BuildAndStart();
        if (!s->server) {
            rg::SetError(error, error_cap, "grpc++ could not start the server (address in use or invalid?)");
            return nullptr;
        }
        for (size_t i = 0; i < s->ports.size(); i++) {
            if (s->ports[i] == 0) {
                s->server->Shutdown();
                s->server->Wait();
                rg::SetError(error, error_cap, std::string("could not bind ") + o->listen_addresses[i]);
                return nullptr;
            }
        }
        // Not ready until the embedder says so.
        if (auto *health = s->server->GetHealthCheckService()) {
            health->SetServingStatus("", false);
            for (const auto &name : s->service_names) health->SetServingStatus(name, false);
        }
        return s.release();
    } catch (const std::exception &e) {
        rg::SetError(error, error_cap, std::string("grpc++ threw: ") + e.what());
        return nullptr;
    } catch (...) {
        rg::SetError(error, error_cap, "grpc++ threw an unknown exception");
        return nullptr;
    }
}

int rg_server_bound_port(const rg_server *server, size_t index) {
    if (server == nullptr || index >= server->ports.size()) return -1;
    return server->ports[index];
}

int rg_server_set_serving(rg_server *server, const char *service, int serving) {
    if (server == nullptr || service == nullptr) return RG_ERR_INVALID;
    try {
        if (auto *health = server->server->GetHealthCheckService()) health->SetServingStatus(service, serving != 0);
        return RG_OK;
    } catch (...) {
        return RG_ERR_INTERNAL;
    }
}

int rg_server_shutdown(rg_server *server, int64_t drain_ms) {
    if (server == nullptr) return RG_ERR_INVALID;
    try {
        {
            std::lock_guard<std::mutex> lock(server->mu);
            if (server->shut_down) return RG_OK;
            server->shut_down = true;
        }
        // Drain: the transport still accepts calls, so health checks keep answering (NOT_SERVING, as the
        // embedder set it) and new calls are refused with UNAVAILABLE by NewCall, while the embedder's calls
        // in flight run until they end or the deadline passes. Only then does grpc shut down, cancelling
        // what is left, health watches and reflection streams included (they never end by themselves and
        // would otherwise hold every shutdown for the whole deadline).
        auto deadline = std::chrono::system_clock::now() + std::chrono::milliseconds(drain_ms < 0 ? 0 : drain_ms);
        {
            std::unique_lock<std::mutex> lock(server->mu);
            server->calls_cv.wait_until(lock, deadline, [server] { return server->live_calls == 0; });
        }
        if (auto *health = server->server->GetHealthCheckService()) health->Shutdown();
        server->server->Shutdown(std::chrono::system_clock::now());
        server->server->Wait();
        // Shutdown cancels what is left; wait until grpc is done with every reactor so no callback
        // runs after this returns.
        std::unique_lock<std::mutex> lock(server->mu);
        server->calls_cv.wait(lock, [server] { return server->live_calls == 0; });
        return RG_OK;
    } catch (...) {
        return RG_ERR_INTERNAL;
    }
}

void rg_server_destroy(rg_server *server) {
    if (server == nullptr) return;
    rg_server_shutdown(server, 0);
    rg::GuardedVoid([&] { delete server; });
}

// MARK: - C API: calls

int rg_call_request_read(rg_call *call) {
    if (call == nullptr) return RG_ERR_INVALID;
    return rg::Guarded([&] { return call->RequestRead(); });
}

int rg_call_write(rg_call *call, const uint8_t *bytes, size_t len) {
    if (call == nullptr || (bytes == nullptr && len > 0)) return RG_ERR_INVALID;
    return rg::Guarded([&] { return call->Write(bytes, len); });
}

int rg_call_finish(rg_call *call, int32_t code, const char *message) {
    if (call == nullptr) return RG_ERR_INVALID;
    return rg::Guarded([&] { return call->RequestFinish(grpc::Status(rg::ClampCode(code), message ? message : "")); });
}

int rg_call_write_last(rg_call *call, const uint8_t *bytes, size_t len, int32_t code, const char *message) {
    if (call == nullptr || (bytes == nullptr && len > 0)) return RG_ERR_INVALID;
    return rg::Guarded([&] { return call->WriteLast(bytes, len, grpc::Status(rg::ClampCode(code), message ? message : "")); });
}

void rg_call_release(rg_call *call) {
    if (call == nullptr) return;
    rg::GuardedVoid([&] { call->Unref(); });
}

}  // extern "C"
