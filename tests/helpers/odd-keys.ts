// Keys that are easy to get wrong: every name Object.prototype has (and `then`, which makes an
// object look like a promise), and astral and CJK keys. Metric keys are data, never members.

export const PROTO_NAMES = [...new Set([...Object.getOwnPropertyNames(Object.prototype), "__proto__", "then", "prototype", "length"])];

export const ODD_KEYS = ["🚀", "🚀".repeat(50), "损失", "訓練/損失", "検証_精度", "손실/train", "𝔏𝔬𝔰𝔰", "👩‍👩‍👧/loss", "val/🎯"];
