import { ensureTemplateDb } from "./helpers/server";

// Once per test run: a migrated template database; servers under test copy it (npm test clears .tmp first).
export default function setup() {
  ensureTemplateDb();
}
