import { describe, expect, it } from "vitest";
import { ExposureListError, exposureListText, parseExposureList } from "../../domain/exposure-list";

function problemsOf(f: () => unknown): readonly string[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ExposureListError) return e.problems;
    throw e;
  }
  throw new Error("expected an ExposureListError");
}

describe("exposures.txt", () => {
  it("is the IDs in order, one a line", () => {
    expect(exposureListText(["1056215p", "1056216p"])).toBe("1056215p\n1056216p\n");
  });

  it.each([
    [[], "at least one observation ID is needed"],
    [["1056215p", "1056215P"], 'observation ID "1056215P" at index 1 is not a CFHT exposure ID (6-8 digits and a lower-case letter, e.g. 1056215p)'],
    [["1056215p; rm -rf ~"], 'observation ID "1056215p; rm -rf ~" at index 0 is not a CFHT exposure ID (6-8 digits and a lower-case letter, e.g. 1056215p)'],
    [["1056215p", "1056216p", "1056215p"], "observation ID '1056215p' at index 2 repeats index 0"],
  ])("refuses %j", (ids, message) => {
    expect(problemsOf(() => exposureListText(ids))).toEqual([message]);
  });

  it("writes 100,000 IDs in well under a second", () => {
    const ids = Array.from({ length: 100_000 }, (_, i) => `${1_000_000 + i}p`);
    const started = performance.now();
    const text = exposureListText(ids);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(text.split("\n").slice(0, -1)).toEqual(ids);
  });
});

describe("a list of IDs in a file", () => {
  it("takes one ID a line, skipping comments, blank lines and surrounding space", () => {
    const text = "# survey W3, night 1\n1056215p\n\n  1056216p   # re-observed\r\n1056217p\n";
    expect(parseExposureList(text, "w3.txt")).toEqual({ ids: ["1056215p", "1056216p", "1056217p"], problems: [] });
  });

  it("names the file and the line of each problem, all together", () => {
    const text = "1056215p\n105621\n1056216p 1056217p\n\n1056215p\n";
    expect(parseExposureList(text, "w3.txt").problems).toEqual([
      'w3.txt line 2: "105621" is not a CFHT exposure ID (6-8 digits and a lower-case letter, e.g. 1056215p)',
      'w3.txt line 3: "1056216p 1056217p" is not a CFHT exposure ID (6-8 digits and a lower-case letter, e.g. 1056215p)',
      "w3.txt line 5: '1056215p' repeats line 1",
    ]);
  });

  it("refuses a file of nothing but comments", () => {
    expect(parseExposureList("# to do\n\n", "empty.txt").problems).toEqual(["empty.txt: no exposure ID in it (one a line; '#' starts a comment)"]);
  });

  it("reads 10,000 lines in linear time", () => {
    const text = Array.from({ length: 10_000 }, (_, i) => `${2_000_000 + i}p`).join("\n");
    const started = performance.now();
    expect(parseExposureList(text, "big.txt").ids).toHaveLength(10_000);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
