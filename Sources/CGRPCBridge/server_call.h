// The server-side call reactor (internal to CGRPCBridge; `rg_call` in the C API).
#pragma once

#include <deque>
#include <mutex>

#include "bridge_util.h"

struct rg_server;

namespace rg {
// Implemented in server.cpp: deliver an event to the embedder; note that a reactor is done.
void ServerEmit(rg_server *server, void *user, rg_event_kind kind, const uint8_t *bytes, size_t len);
void ServerCallDone(rg_server *server);
// Implemented in server.cpp: hand the call to the embedder (on_call), then bind it to what on_call returned.
// `request`: what CollectRequest read of a unary call (rg_call_info.request_read and its message).
struct UnaryRequest {
    int32_t read = RG_REQUEST_ON_DEMAND;
    const uint8_t *bytes = nullptr;
    size_t len = 0;
};
void ServerDeliver(rg_server *server, rg_call *call, UnaryRequest request);
}  // namespace rg

// Owned jointly by grpc (until OnDone) and the embedder (until rg_call_release): `refs_` counts both,
// so either side may go first. State changes happen under `mu_`; grpc operations are started after
// unlocking (by Pump), and each buffer is touched only by the one operation in flight on it.
//
// Life of a call: [unary methods: CollectRequest reads the request and the half-close] -> on_call -> Bind
// (events may flow from now) -> reads on request, writes from the queue one at a time -> Finish once a finish was requested and the queue is empty (the embedder's
// status, or CANCELLED / DEADLINE_EXCEEDED set by OnCancel; StartWriteAndFinish when the finish came with a
// last message, rg_call_write_last) -> OnDone -> RG_EVENT_DONE.
struct rg_call final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
    rg_call(rg_server *server, grpc::ServerContextBase *context, std::string method)
        : server_(server), context_(context), method_(std::move(method)) {}

    grpc::ServerContextBase *context() const { return context_; }
    const std::string &method() const { return method_; }

    void Bind(void *user) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            user_ = user;
            bound_ = true;
        }
        Pump();
    }

    // Unary methods: reads the one request message and the half-close before the embedder hears of the call
    // (then ServerDeliver); a second message is answered with INTERNAL here, and a call cancelled meanwhile
    // ends without reaching the embedder.
    void CollectRequest() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            collecting_ = reading_ = true;
        }
        StartRead(&read_buffer_);
    }

    int RequestRead() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (finished_ || read_closed_) return RG_ERR_CLOSED;
            read_wanted_ = true;
        }
        Pump();
        return RG_OK;
    }

    int Write(const uint8_t *bytes, size_t len) {
        grpc::ByteBuffer buffer = rg::ToByteBuffer(bytes, len);
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (finish_requested_) return RG_ERR_CLOSED;
            queue_.push_back(std::move(buffer));
        }
        Pump();
        return RG_OK;
    }

    // The last message and the status at once: sent with one StartWriteAndFinish once the queue is empty.
    int WriteLast(const uint8_t *bytes, size_t len, grpc::Status status) {
        grpc::ByteBuffer buffer = rg::ToByteBuffer(bytes, len);
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (finish_requested_) return RG_ERR_CLOSED;
            finish_requested_ = true;
            status_ = std::move(status);
            last_ = std::move(buffer);
            has_last_ = true;
        }
        Pump();
        return RG_OK;
    }

    int RequestFinish(grpc::Status status) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (finish_requested_) return RG_ERR_CLOSED;
            finish_requested_ = true;
            status_ = std::move(status);
        }
        Pump();
        return RG_OK;
    }

    void Unref() {
        bool last;
        {
            std::lock_guard<std::mutex> lock(mu_);
            last = --refs_ == 0;
        }
        if (last) delete this;
    }

    void OnReadDone(bool ok) override {
        std::vector<uint8_t> bytes;
        if (ok) bytes = rg::FromByteBuffer(read_buffer_);
        read_buffer_.Clear();
        if (collecting_) return Collected(ok, std::move(bytes));  // only this read's thread touches it now
        {
            std::lock_guard<std::mutex> lock(mu_);
            reading_ = false;
            if (!ok) read_closed_ = true;
        }
        // A failed read means half-close or cancellation. When grpc already knows it is the latter,
        // say nothing: OnCancel follows and reports it, rather than a clean end of stream.
        if (ok || !context_->IsCancelled()) {
            Emit(ok ? RG_EVENT_MESSAGE : RG_EVENT_HALF_CLOSE, bytes.data(), bytes.size());
        }
        Pump();
    }

    void OnWriteDone(bool) override {
        write_buffer_.Clear();
        {
            std::lock_guard<std::mutex> lock(mu_);
            writing_ = false;
        }
        Emit(RG_EVENT_WRITTEN, nullptr, 0);
        Pump();
    }

    // The client cancelled, the deadline passed or the server is shutting down. grpc still needs
    // Finish, so the bridge finishes by itself; the embedder's later finish is then a no-op.
    void OnCancel() override {
        bool deadline = context_->deadline() <= std::chrono::system_clock::now();
        size_t dropped;
        {
            std::lock_guard<std::mutex> lock(mu_);
            cancelled_ = true;
            dropped = queue_.size();
            queue_.clear();
            has_last_ = false;  // a last message (rg_call_write_last) has no RG_EVENT_WRITTEN to send
            last_.Clear();
            if (!finish_requested_) {
                finish_requested_ = true;
                status_ = deadline ? grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "deadline exceeded")
                                   : grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
            }
        }
        for (size_t i = 0; i < dropped; i++) Emit(RG_EVENT_WRITTEN, nullptr, 0);
        Emit(deadline ? RG_EVENT_DEADLINE : RG_EVENT_CANCELLED, nullptr, 0);
        Pump();
    }

    void OnDone() override {
        Emit(RG_EVENT_DONE, nullptr, 0);
        rg_server *server = server_;
        Unref();
        rg::ServerCallDone(server);
    }

  private:
    ~rg_call() override = default;

    // One read of CollectRequest is done: read on after the first message; deliver at the half-close.
    void Collected(bool ok, std::vector<uint8_t> bytes) {
        if (ok && !has_request_) {
            has_request_ = true;
            request_ = std::move(bytes);
            StartRead(&read_buffer_);
            return;
        }
        bool cancelled;
        {
            std::lock_guard<std::mutex> lock(mu_);
            collecting_ = reading_ = false;
            read_closed_ = true;
            cancelled = cancelled_;
        }
        if (cancelled || (!ok && context_->IsCancelled())) {
            // OnCancel has set (or is about to set) the status; nobody else will answer.
            Bind(nullptr);
            Unref();  // the embedder's reference
        } else if (ok) {
            Bind(nullptr);
            RequestFinish(grpc::Status(grpc::StatusCode::INTERNAL, "unary call with more than one request message"));
            Unref();
        } else {
            rg::ServerDeliver(server_, this, {has_request_ ? RG_REQUEST_READ : RG_REQUEST_NONE, request_.data(), request_.size()});
        }
    }

    void Emit(rg_event_kind kind, const uint8_t *bytes, size_t len) { rg::ServerEmit(server_, user_, kind, bytes, len); }

    // Starts whatever grpc operation the state allows: a read if wanted, the next queued write, or
    // Finish once the queue is empty.
    void Pump() {
        // One thread at a time starts operations (the "pumper"); others only change state under
        // the lock and leave, and the pumper decides again until nothing is left to start. So
        // Finish is never called while another thread is about to start a read or write, which
        // grpc would then see on a finished call.
        std::unique_lock<std::mutex> lock(mu_);
        if (pumping_) return;
        pumping_ = true;
        for (;;) {
            bool read = false, write = false, finish = false, last = false;
            if (bound_ && !finished_) {
                if (read_wanted_ && !reading_ && !read_closed_) {
                    read_wanted_ = false;
                    reading_ = read = true;
                }
                if (!writing_) {
                    if (!queue_.empty()) {
                        write_buffer_ = std::move(queue_.front());
                        queue_.pop_front();
                        writing_ = write = true;
                    } else if (finish_requested_) {
                        finished_ = finish = true;
                        if (has_last_) {
                            write_buffer_ = std::move(last_);
                            has_last_ = false;
                            last = true;
                        }
                    }
                }
            }
            if (!read && !write && !finish) {
                pumping_ = false;
                return;
            }
            // After Finish, OnDone may run and free this object: it is the last thing done here.
            if (finish) pumping_ = false;
            grpc::Status status = finish ? status_ : grpc::Status();
            lock.unlock();
            if (read) StartRead(&read_buffer_);
            if (write) StartWrite(&write_buffer_);
            if (finish) {
                // One operation for a unary reply: message and status leave together (no OnWriteDone follows).
                if (last) {
                    StartWriteAndFinish(&write_buffer_, grpc::WriteOptions(), status);
                } else {
                    Finish(status);
                }
                return;
            }
            lock.lock();
        }
    }

    rg_server *const server_;
    grpc::ServerContextBase *const context_;
    const std::string method_;
    std::mutex mu_;
    int refs_ = 2;  // grpc + embedder
    void *user_ = nullptr;
    bool bound_ = false, read_wanted_ = false, reading_ = false, read_closed_ = false;
    bool writing_ = false, finish_requested_ = false, finished_ = false, cancelled_ = false;
    bool pumping_ = false, has_last_ = false;
    bool collecting_ = false, has_request_ = false;  // CollectRequest
    std::vector<uint8_t> request_;
    std::deque<grpc::ByteBuffer> queue_;
    grpc::ByteBuffer last_;  // rg_call_write_last's message, sent with the status
    grpc::ByteBuffer read_buffer_, write_buffer_;
    grpc::Status status_;
};
