// Parameter parsing and JSON encoding of the HTTP API, checked against what Prometheus 2.42
// answers for the same input (the expected strings were read from a real 2.42 server).
#include <cmath>
#include <limits>

#include "gtest/gtest.h"
#include "promql-lite/api/json.h"
#include "promql-lite/api/params.h"
#include "storage/store.h"
#include "tests/testing/testing.h"

namespace sb::promql::api {
namespace {

std::string Val(double v) {
  std::string s;
  AppendSampleValue(&s, v);
  return s;
}

std::string Ts(int64_t ms) {
  std::string s;
  AppendTimestamp(&s, ms);
  return s;
}

TEST(ApiJsonTest, SampleValuesAreFormattedLikeGo) {
  EXPECT_EQ(Val(1.5), "1.5");
  EXPECT_EQ(Val(0), "0");
  EXPECT_EQ(Val(-0.0), "-0");
  EXPECT_EQ(Val(1700000017), "1700000017");
  EXPECT_EQ(Val(1700000017.001), "1700000017.001");
  EXPECT_EQ(Val(0.1), "0.1");
  EXPECT_EQ(Val(1e-7), "1e-07");
  EXPECT_EQ(Val(0.000001), "0.000001");
  EXPECT_EQ(Val(1e22), "1e+22");
  EXPECT_EQ(Val(1e21), "1e+21");
  EXPECT_EQ(Val(123456789012345678901.0), "123456789012345680000");
  EXPECT_EQ(Val(std::nan("")), "NaN");
  EXPECT_EQ(Val(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(Val(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(Val(-2.5e-300), "-2.5e-300");
}

TEST(ApiJsonTest, FixedFormatPadsShortestDigitsLikeGo) {
  std::string s;
  AppendGoFloat(&s, 1e22, 'f');
  EXPECT_EQ(s, "10000000000000000000000");  // promtool prints 1e22 so
  s.clear();
  AppendGoFloat(&s, 1e-7, 'f');
  EXPECT_EQ(s, "0.0000001");
  s.clear();
  AppendGoFloat(&s, -123.25, 'f');
  EXPECT_EQ(s, "-123.25");
  s.clear();
  AppendGoFloat(&s, 1.5e-300, 'e');
  EXPECT_EQ(s, "1.5e-300");
}

TEST(ApiJsonTest, TimestampsKeepThreeMillisecondDigits) {
  EXPECT_EQ(Ts(1700000017000), "1700000017");
  EXPECT_EQ(Ts(1700000017500), "1700000017.500");
  EXPECT_EQ(Ts(1700003617789), "1700003617.789");
  EXPECT_EQ(Ts(1700000017001), "1700000017.001");
  EXPECT_EQ(Ts(1700000017010), "1700000017.010");
  EXPECT_EQ(Ts(-17250), "-17.250");
  EXPECT_EQ(Ts(0), "0");
}

TEST(ApiJsonTest, StringsAreEscapedLikeGoEncodingJson) {
  std::string s;
  AppendJsonString(&s, "a\"b\\c\n<x>&\x01\t");
  EXPECT_EQ(s, "\"a\\\"b\\\\c\\n\\u003cx\\u003e\\u0026\\u0001\\t\"");
  s.clear();
  AppendJsonString(&s, "caf\xc3\xa9 \xe2\x80\xa8 \xff");
  EXPECT_EQ(s, "\"caf\xc3\xa9 \\u2028 \\ufffd\"");
}

TEST(ApiJsonTest, VectorAnswerMatchesPrometheusBytes) {
  Value v;
  v.type = ValueType::kVector;
  v.series.push_back({{{"__name__", "foo"}, {"a", "1"}}, {{1700000017500, 1.5}}});
  v.series.push_back({{{"__name__", "foo"}, {"a", "2"}}, {{1700000017500, 1e22}}});
  std::string data;
  AppendQueryData(&data, v);
  EXPECT_EQ(SuccessBody(data),
            R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"foo","a":"1"},)"
            R"("value":[1700000017.500,"1.5"]},{"metric":{"__name__":"foo","a":"2"},"value":[1700000017.500,"1e+22"]}]}})");
}

TEST(ApiJsonTest, MatrixScalarStringAndEmptyAnswers) {
  Value m;
  m.type = ValueType::kMatrix;
  m.series.push_back({{{"a", "1"}}, {{1700000017000, 1.5}, {1700001817000, 1e-7}}});
  std::string data;
  AppendQueryData(&data, m);
  EXPECT_EQ(data, R"({"resultType":"matrix","result":[{"metric":{"a":"1"},"values":[[1700000017,"1.5"],[1700001817,"1e-07"]]}]})");

  Value sc;
  sc.type = ValueType::kScalar;
  sc.t = 1700000017000;
  sc.scalar = std::numeric_limits<double>::infinity();
  data.clear();
  AppendQueryData(&data, sc);
  EXPECT_EQ(data, R"({"resultType":"scalar","result":[1700000017,"+Inf"]})");

  Value st;
  st.type = ValueType::kString;
  st.t = 1700000017000;
  st.str = "hi";
  data.clear();
  AppendQueryData(&data, st);
  EXPECT_EQ(data, R"({"resultType":"string","result":[1700000017,"hi"]})");

  Value empty;
  data.clear();
  AppendQueryData(&data, empty);
  EXPECT_EQ(data, R"({"resultType":"vector","result":[]})");
}

TEST(ApiJsonTest, ErrorsAndWarningsUsePrometheusShapes) {
  EXPECT_EQ(ErrorBody(ErrorType::kBadData, "invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"),
            R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"})");
  EXPECT_EQ(SuccessBody("[]", {"w1", "w2"}), R"({"status":"success","data":[],"warnings":["w1","w2"]})");
  EXPECT_EQ(ErrorHttpStatus(ErrorType::kBadData), 400);
  EXPECT_EQ(ErrorHttpStatus(ErrorType::kExecution), 422);
  EXPECT_EQ(ErrorHttpStatus(ErrorType::kTimeout), 503);
  EXPECT_STREQ(ErrorTypeName(ErrorType::kExecution), "execution");
}

TEST(ApiParamsTest, FloatSecondsRoundToMilliseconds) {
  EXPECT_EQ(*ParseTime("1700000017"), 1700000017000);
  EXPECT_EQ(*ParseTime("1700000017.5"), 1700000017500);
  EXPECT_EQ(*ParseTime("1700003617.789"), 1700003617789);
  EXPECT_EQ(*ParseTime("1700000017.0015"), 1700000017001);  // as 2.42 answers
  EXPECT_EQ(*ParseTime("-17.25"), -17250);
  EXPECT_EQ(*ParseTime("-1.5"), -1500);
  EXPECT_EQ(*ParseTime("1.7e9"), 1700000000000);
  EXPECT_EQ(*ParseTime("+5"), 5000);
}

TEST(ApiParamsTest, Rfc3339TimesWithFractionsAndOffsets) {
  EXPECT_EQ(*ParseTime("2023-11-14T22:13:20Z"), 1700000000000);
  EXPECT_EQ(*ParseTime("2023-11-14T23:13:20.5Z"), 1700003600500);
  EXPECT_EQ(*ParseTime("2023-11-14T22:13:20.123456789+01:00"), 1700000000123 - 3600000);
  EXPECT_EQ(*ParseTime("2024-02-29T00:00:00-00:30"), 1709164800000 + 1800000);
  EXPECT_EQ(*ParseTime(kMinTimeFormatted), kMinTimeMs);
  EXPECT_EQ(*ParseTime(kMaxTimeFormatted), kMaxTimeMs);
}

TEST(ApiParamsTest, BadTimesAreRefusedWithPrometheusWording) {
  for (const char* bad : {"", "abc", "1e400", "2023-02-29T00:00:00Z", "2023-11-14 22:13:20Z", "2023-11-14T22:13:20",
                          " 17", "17 ", "NaN", "Inf", "0x", "2023-11-14T24:00:00Z"}) {
    auto r = ParseTime(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message(), "cannot parse \"" + std::string(bad) + "\" to a valid timestamp");
  }
}

TEST(ApiParamsTest, DurationsAreSecondsOrPrometheusDurations) {
  EXPECT_EQ(*ParseDurationNs("1800"), 1800LL * 1000000000);
  EXPECT_EQ(*ParseDurationNs("0.5"), 500000000);
  EXPECT_EQ(*ParseDurationNs("1h"), 3600LL * 1000000000);
  EXPECT_EQ(*ParseDurationNs("1m30s"), 90LL * 1000000000);
  EXPECT_EQ(*ParseDurationNs("-5"), -5LL * 1000000000);
  EXPECT_EQ(ParseDurationNs("").status().message(), "cannot parse \"\" to a valid duration");
  EXPECT_EQ(ParseDurationNs("1e400").status().message(), "cannot parse \"1e400\" to a valid duration");
  EXPECT_EQ(ParseDurationNs("1e10").status().message(),
            "cannot parse \"1e10\" to a valid duration. It overflows int64");
  EXPECT_FALSE(ParseDurationNs("5 m").ok());
}

TEST(ApiParamsTest, TimeParamWrapsErrorsAsPrometheusDoes) {
  auto form = Form::Parse("time=abc", "", false);
  ASSERT_OK(form);
  auto t = TimeParam(*form, "time", 42);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "invalid parameter \"time\": Invalid time value for 'time': cannot parse \"abc\" to a valid timestamp");
  EXPECT_EQ(*TimeParam(*form, "start", 42), 42);
}

TEST(ApiParamsTest, FormMergesBodyBeforeQueryString) {
  auto form = Form::Parse("query=foo&time=1&match%5B%5D=a", "time=1700000017&match[]=b%7Bx%3D%22y+z%22%7D", true);
  ASSERT_OK(form);
  EXPECT_EQ(form->Value("time"), "1700000017");
  EXPECT_EQ(form->Value("query"), "foo");
  EXPECT_EQ(form->Values("match[]"), (std::vector<std::string>{"b{x=\"y z\"}", "a"}));
  EXPECT_TRUE(form->Has("query"));
  EXPECT_FALSE(form->Has("nope"));
  EXPECT_EQ(form->Value("nope"), "");
  // The body is ignored unless it is a form.
  auto get = Form::Parse("a=1", "a=2", false);
  ASSERT_OK(get);
  EXPECT_EQ(get->Values("a"), std::vector<std::string>{"1"});
}

TEST(ApiParamsTest, MalformedEscapesAreErrors) {
  auto form = Form::Parse("query=%zz", "", false);
  ASSERT_FALSE(form.ok());
  EXPECT_EQ(form.status().message(), "invalid URL escape \"%zz\"");
  EXPECT_FALSE(Form::Parse("query=%4", "", false).ok());
  EXPECT_FALSE(Form::Parse("", "a=%", true).ok());
}

}  // namespace
}  // namespace sb::promql::api
