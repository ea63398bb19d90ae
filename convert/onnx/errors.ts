/**
 * A converted model the graph builders cannot build: a setting or shape a converted config can reach (a width that
 * does not split into the GroupNorm's groups or the attention's heads, an ISTFT size the head does not support, FSQ
 * levels below 2, an anti-aliasing filter outside its range). Typed, so the command line prints one line naming the
 * tensor or value and exits 1, where a RangeError would read as a bug.
 */
import { Xcodec2Error } from "../../common/errors.ts";

export class GraphError extends Xcodec2Error {}
