// Costs of the S3 source's CPU work per request: signing (SigV4: two SHA-256 and five
// HMAC-SHA256) and parsing one full ListObjectsV2 page (1,000 keys, as AWS sends them).
// Network time dominates a real scan; these bound what the bridge itself adds.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

#include "recommendations/s3_xml.h"
#include "recommendations/sigv4.h"

namespace sb::recommendations {
namespace {

void BM_SigV4_SignGetObject(benchmark::State& state) {
  AwsCredentials creds;
  creds.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  creds.secret_access_key = Secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  creds.session_token = Secret(std::string(400, 'T'));  // STS tokens are a few hundred bytes
  for (auto _ : state) {
    SigV4Request req;
    req.canonical_uri = "/ci/reports/" + AwsUriEncode("node 25-alpine report.txt", false);
    req.headers = {{"host", "acme-scout-reports.s3.eu-west-1.amazonaws.com"},
                   {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)}};
    std::string sig = SignRequest(creds, "eu-west-1", "s3", "20261122T223000Z", &req);
    benchmark::DoNotOptimize(sig);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SigV4_SignGetObject);

std::string ListPage(int keys) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>acme-scout-reports</Name>"
      "<Prefix>ci/reports/</Prefix><KeyCount>1000</KeyCount><MaxKeys>1000</MaxKeys>";
  for (int i = 0; i < keys; ++i) {
    char key[96];
    std::snprintf(key, sizeof key, "ci/reports/team-%03d/image-%05d.txt", i % 37, i);
    xml += std::string("<Contents><Key>") + key +
           "</Key><LastModified>2026-11-22T10:00:00.000Z</LastModified>"
           "<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>4096</Size>"
           "<StorageClass>STANDARD</StorageClass></Contents>";
  }
  xml += "<IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/"
         "wm36Hy4vbOwM=</NextContinuationToken></ListBucketResult>";
  return xml;
}

void BM_S3Xml_ParseListPage(benchmark::State& state) {
  const std::string xml = ListPage(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto page = ParseListObjectsV2(xml);
    if (!page.ok() || page->objects.size() != static_cast<size_t>(state.range(0))) {
      state.SkipWithError("parse failed");
      break;
    }
    benchmark::DoNotOptimize(page);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(xml.size()));
}
BENCHMARK(BM_S3Xml_ParseListPage)->Arg(1000);

}  // namespace
}  // namespace sb::recommendations
