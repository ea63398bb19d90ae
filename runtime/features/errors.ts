/** Why a clip cannot be turned into model inputs. */
import { Xcodec2Error } from "../../common/errors.ts";
export type FeatureInputProblem = "empty" | "non-finite" | "not-float32" | "no-clips";

/**
 * Bad input to the feature extractor. `itemIndex` is the clip's position in the caller's list (0 for a single clip)
 * so a caller with hundreds of files can say which one was bad.
 */
export class FeatureInputError extends Xcodec2Error {
  constructor(
    readonly itemIndex: number,
    readonly problem: FeatureInputProblem,
    detail: string,
  ) {
    super(`audio item ${itemIndex}: ${detail}`);
  }
}
