import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DOUBLES_DIR } from "./doubles-dir";

export interface ImageState {
  id: string;
  name: string;
  status: string;
  properties: Record<string, string>;
}

/**
 * The state of the `openstack` double (harness/doubles/openstack): servers and images kept as
 * files, so the tests can seed them, run a script, then read what the script did.
 */
export class OpenstackDouble {
  readonly stateDir: string;

  constructor() {
    this.stateDir = mkdtempSync(join(tmpdir(), "openstack-double-"));
  }

  addServer(id: string, status = "ACTIVE"): void {
    mkdirSync(join(this.stateDir, "servers", id), { recursive: true });
    writeFileSync(join(this.stateDir, "servers", id, "status"), status);
  }

  serverStatus(id: string): string | undefined {
    const f = join(this.stateDir, "servers", id, "status");
    return existsSync(f) ? readFileSync(f, "utf8") : undefined;
  }

  addImage(image: ImageState): void {
    const dir = join(this.stateDir, "images", image.id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "name"), image.name);
    writeFileSync(join(dir, "status"), image.status);
    const props = Object.entries(image.properties).map(([k, v]) => `${k}=${v}\n`);
    writeFileSync(join(dir, "properties"), props.join(""));
  }

  images(): ImageState[] {
    const root = join(this.stateDir, "images");
    if (!existsSync(root)) return [];
    return readdirSync(root).map((id) => {
      const dir = join(root, id);
      const properties: Record<string, string> = {};
      for (const line of readFileSync(join(dir, "properties"), "utf8").split("\n")) {
        const eq = line.indexOf("=");
        if (eq > 0) properties[line.slice(0, eq)] = line.slice(eq + 1);
      }
      return {
        id,
        name: readFileSync(join(dir, "name"), "utf8"),
        status: readFileSync(join(dir, "status"), "utf8"),
        properties,
      };
    });
  }

  /** Every call the scripts made, one argv string per call, in order. */
  calls(): string[] {
    const f = join(this.stateDir, "calls.log");
    return existsSync(f) ? readFileSync(f, "utf8").split("\n").filter((l) => l !== "") : [];
  }

  /** Environment for a script run: the doubles first on PATH, nothing from the host's OS_*. */
  env(scenario: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      PATH: `${DOUBLES_DIR}:/usr/local/bin:/usr/bin:/bin`,
      HOME: this.stateDir,
      OPENSTACK_DOUBLE_STATE: this.stateDir,
      ...scenario,
    };
  }

  cleanup(): void {
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}
