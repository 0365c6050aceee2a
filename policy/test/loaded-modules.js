// Preload (`node -r`) for serve.test.ts: when the process first writes to stdout, which for a
// policy pack is the port it serves on, write the file of every module loaded so far, as JSON, to
// $LOADED_MODULES_FILE. That is what the pack loaded before the engine could talk to it.
"use strict";
const fs = require("fs");

const file = process.env.LOADED_MODULES_FILE;
const write = process.stdout.write.bind(process.stdout);
let recorded = false;
process.stdout.write = (...args) => {
  if (!recorded && file) {
    recorded = true;
    fs.writeFileSync(file, JSON.stringify(Object.keys(require.cache)));
  }
  return write(...args);
};
