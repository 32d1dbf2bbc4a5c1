/** The base images' distributions: they decide the package names and the default login. */
export const DISTROS = ["ubuntu", "debian", "rocky"] as const;
export type Distro = (typeof DISTROS)[number];

/** The image's default login, which holds the key cloud-init injected (tutorial step 4). */
export const DEFAULT_USER: Record<Distro, string> = { ubuntu: "ubuntu", debian: "debian", rocky: "rocky" };

/** Guesses the distribution from CANFAR's image names (canfar-ubuntu-20.04, canfar-rocky-8). */
export function inferDistro(image: string): Distro | undefined {
  const lower = image.toLowerCase();
  return DISTROS.find((d) => lower.includes(d));
}
