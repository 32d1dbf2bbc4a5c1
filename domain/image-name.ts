/**
 * A worker image name: what create-image.sh gives Glance, submit.sh hands canfar_submit and
 * the csv2 submit file names in +VMImage. Glance's 255 characters, and nothing a shell, a
 * ClassAd string or canfar_submit's getopt could misread. The scripts apply the same pattern
 * (tests/rules holds them to this).
 */
export const IMAGE_NAME_ERE = "^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$";

export function isImageName(value: string): boolean {
  return new RegExp(IMAGE_NAME_ERE).test(value);
}
