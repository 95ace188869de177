// SharedBody: a Beast Body whose value is a `std::shared_ptr<const std::string>`.
//
// It exists for the fast-scrape hot path. Snapshots hold their response bodies, rendered once,
// (text 0.0.4, OpenMetrics, gzip of each) as shared, immutable strings. Serving a scrape
// means copying that pointer into a response and writing it: the writer hands Beast one
// const_buffer over the shared string, so the bytes are never copied, and the snapshot
// stays alive until the last response that points into it has been written, even if a
// newer snapshot was swapped in meanwhile.
//
// A null pointer is an empty body. The reader (used when a client parses a response into a
// SharedBody) accumulates into a private string and publishes it at finish(); its size is
// bounded by the parser's body_limit like any other Beast body.
//
// Thread-safety: the pointed-to string is const, so any number of responses on any number
// of threads may share it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>

namespace sb::bridge {

struct SharedBody {
  using value_type = std::shared_ptr<const std::string>;

  // Payload size, used by prepare_payload() to set Content-Length.
  static std::uint64_t size(const value_type& body) { return body ? body->size() : 0; }

  // Serializes the body as a single buffer over the shared string (zero-copy).
  class writer {
   public:
    using const_buffers_type = boost::asio::const_buffer;

    template <bool isRequest, class Fields>
    writer(const boost::beast::http::header<isRequest, Fields>&, const value_type& body)
        : body_(body) {}

    void init(boost::system::error_code& ec) { ec = {}; }

    boost::optional<std::pair<const_buffers_type, bool>> get(boost::system::error_code& ec) {
      ec = {};
      if (done_ || !body_ || body_->empty()) return boost::none;
      done_ = true;
      return std::make_pair(const_buffers_type(body_->data(), body_->size()), false);
    }

   private:
    const value_type& body_;  // Owned by the message, which outlives the serializer.
    bool done_ = false;
  };

  // Parses a body into a fresh string, published as the shared value at finish().
  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>& length, boost::system::error_code& ec) {
      ec = {};
      if (length) {
        if (*length > buffer_.max_size()) {
          ec = boost::beast::http::error::buffer_overflow;
          return;
        }
        buffer_.reserve(static_cast<size_t>(*length));
      }
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
      ec = {};
      std::size_t n = 0;
      for (auto it = boost::asio::buffer_sequence_begin(buffers);
           it != boost::asio::buffer_sequence_end(buffers); ++it) {
        boost::asio::const_buffer b = *it;
        buffer_.append(static_cast<const char*>(b.data()), b.size());
        n += b.size();
      }
      return n;
    }

    void finish(boost::system::error_code& ec) {
      ec = {};
      body_ = std::make_shared<const std::string>(std::move(buffer_));
    }

   private:
    value_type& body_;
    std::string buffer_;
  };
};

}  // namespace sb::bridge
