// Client-side TLS setup for the upstream client: building an ssl::context from TlsOptions,
// preparing one connection (SNI, peer-name check), and turning a handshake failure into a
// readable sentence. Used by bridge/http_client.cc; kept apart so the OpenSSL details sit in
// one small file.
//
// Thread-safety: free functions. A context returned here may be shared by several streams.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "bridge/asio.h"
#include "common/status.h"

namespace sb::bridge {

struct TlsOptions {
  // PEM file of CA certificates. Empty: the system store (set_default_verify_paths).
  // Non-empty: ONLY these CAs are trusted (Prometheus' tls_config.ca_file semantics).
  std::string ca_file;
  // PEM client certificate (chain) and private key for mutual TLS. Both or neither.
  std::string cert_file;
  std::string key_file;
  // Name sent as SNI and checked against the certificate. Empty: the request's host. SNI is
  // never sent for an IP literal (RFC 6066); the certificate is then checked for an IP SAN.
  std::string server_name;
  // Disables chain and name verification. For tests and broken upstreams only.
  bool insecure_skip_verify = false;
};

// Returns a TLS client context: TLS 1.2+, peer verification as `opts` says, client
// certificate loaded when given.
// Errors: InvalidArgument naming the file (never its content) that cannot be loaded, or
// cert_file without key_file (or the reverse).
Result<std::shared_ptr<ssl::context>> MakeClientTlsContext(const TlsOptions& opts);

// Prepares one connection before its handshake: SNI (server_name or host, unless an IP
// literal) and, unless insecure_skip_verify, OpenSSL's own host-name or IP check so that a
// mismatch fails the handshake with X509_V_ERR_HOSTNAME_MISMATCH / IP_ADDRESS_MISMATCH.
// REQUIRES: `ssl` belongs to a stream made from a MakeClientTlsContext context.
Status ConfigureTlsConnection(SSL* ssl, const TlsOptions& opts, std::string_view host);

// Describes a failed handshake: the OpenSSL reason, and the certificate verification result
// when there is one, e.g. "certificate verify failed (self-signed certificate in certificate
// chain)". `ssl` may be null.
std::string DescribeTlsError(const error_code& ec, SSL* ssl);

// True if `host` is an IPv4 or IPv6 literal (IPv6 without brackets).
bool IsIpLiteral(std::string_view host);

}  // namespace sb::bridge
