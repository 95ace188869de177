// Writes the Scout-like data set of the differential test (tests/promql/scout_dataset.h) as
// OpenMetrics text to stdout, for bench/promql/dashboard_vs_prometheus.sh.
//   scout-dataset [hours [start_s]] > data.om   (start_s defaults to RecentStartS(hours))
#include <cstdlib>
#include <iostream>

#include "tests/promql/scout_dataset.h"

int main(int argc, char** argv) {
  sb::testdata::ScoutDatasetOptions o;
  if (argc > 1) o.hours = std::atoi(argv[1]);
  if (o.hours <= 0) {
    std::cerr << "usage: scout-dataset [hours > 0 [start_s]]\n";
    return 2;
  }
  o.start_s = argc > 2 ? std::atoll(argv[2]) : sb::testdata::RecentStartS(o.hours);
  std::cout << sb::testdata::RenderScoutDataset(o);
  return 0;
}
