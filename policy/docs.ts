/**
 * `npm run docs:policy`: writes the rule table of policy/README.md from the rules' metadata
 * (rules-table.ts), then formats the README with the repository's prettier settings.
 */
import * as fs from "fs";
import * as path from "path";
import * as prettier from "prettier";
import { documentedPolicies } from "./policies";
import { rulesTable, withRulesTable } from "./rules-table";

async function main(): Promise<void> {
  const file = path.join(__dirname, "README.md");
  const before = fs.readFileSync(file, "utf8");
  const options = { ...(await prettier.resolveConfig(file)), filepath: file };
  const after = await prettier.format(
    withRulesTable(before, rulesTable(documentedPolicies)),
    options,
  );
  fs.writeFileSync(file, after);
  console.log(after === before ? `${file}: up to date` : `${file}: rule table rewritten`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
