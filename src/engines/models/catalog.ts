/**
 * Published ONNX exports that `cryosam models pull` knows. Checksums are the files' sha256 as
 * published (Hugging Face LFS object ids, quoted by projects that pin these files); null where none
 * could be established, in which case `pull` records the sha256 it computes and says so.
 * Set CRYOSAM_MODELS_BASE_URL (or pass baseUrl) to fetch <base>/<model>/<file> from a mirror instead.
 */
import type { ManifestInput, SamDecoderInput, SamEncoderInput } from './manifest.js';

export interface CatalogFile {
  /** File name in the model folder (as named in the manifest). */
  file: string;
  /** Public URL, or null when no single-file download exists (see howToGet). */
  url: string | null;
  sha256: string | null;
  howToGet?: string;
}

export interface CatalogEntry {
  name: string;
  description: string;
  license: string;
  files: CatalogFile[];
  /** The manifest written after download (checksums are filled in by pull). */
  manifest: ManifestInput;
}

const HF = 'https://huggingface.co';
/** Exports whose graph resizes nothing but normalises and pads itself: fed 0..255 HWC. */
const BAKED: Omit<SamEncoderInput, 'file'> = { layout: 'hwc', pixelMean: [0, 0, 0], pixelStd: [1, 1, 1] };

function sam(
  name: string,
  description: string,
  license: string,
  encoder: CatalogFile,
  decoder: CatalogFile,
  encoderSpec: Omit<SamEncoderInput, 'file'> = {},
  decoderSpec: Omit<SamDecoderInput, 'file'> = {},
): CatalogEntry {
  return {
    name,
    description,
    license,
    files: [encoder, decoder],
    manifest: {
      kind: 'sam',
      name,
      description,
      license,
      source: encoder.url ?? undefined,
      encoder: { file: encoder.file, ...encoderSpec },
      decoder: { file: decoder.file, ...decoderSpec },
    },
  };
}

function dinov2(name: string, description: string, url: string, sha256: string | null, registerTokens: 0 | 4): CatalogEntry {
  return {
    name,
    description,
    license: 'Apache-2.0',
    files: [{ file: 'model.onnx', url, sha256 }],
    manifest: {
      kind: 'dinov2',
      name,
      description,
      license: 'Apache-2.0',
      source: url,
      model: { file: 'model.onnx', inputSize: 518, patchSize: 14, registerTokens },
    },
  };
}

export const CATALOG: readonly CatalogEntry[] = [
  sam(
    'sam-vit-b',
    'Segment Anything ViT-B (91M encoder params), standard export: NCHW 1024² normalised input',
    'Apache-2.0',
    { file: 'encoder.onnx', url: `${HF}/rajlab/sam_vit_b/resolve/main/encoder.onnx`, sha256: '08d1b45ed63bcb74a6504f01392dafd4b39b9c1df657321b914f4bf56b3754c9' },
    { file: 'decoder.onnx', url: `${HF}/rajlab/sam_vit_b/resolve/main/decoder.onnx`, sha256: '67eeb654773f692dd6c5f5c54c8ea3de3be2790cc293ee3c8d0dee137a7751c7' },
  ),
  sam(
    'sam-vit-l',
    'Segment Anything ViT-L (308M encoder params); the encoder graph normalises and pads (HWC 0..255 input)',
    'Apache-2.0',
    {
      file: 'sam_vit_l_0b3195.encoder.onnx',
      url: `${HF}/Rookiehan/sam/resolve/main/sam_vit_l_0b3195.encoder.onnx`,
      sha256: '8218869dc78946dd5ef58031ebcf443f66aa26489ac19dd9359d47a780abbe8a',
    },
    {
      file: 'sam_vit_l_0b3195.decoder.onnx',
      url: `${HF}/Rookiehan/sam/resolve/main/sam_vit_l_0b3195.decoder.onnx`,
      sha256: '90905d3895cc7053ced195bc2e8815fad71b528ee809825fc14a402184faec72',
    },
    BAKED,
  ),
  sam(
    'sam-vit-h',
    'Segment Anything ViT-H (636M encoder params), the model of the CryoSAM paper; the encoder (>2 GB) has no single-file download',
    'Apache-2.0',
    {
      file: 'sam_vit_h_4b8939.encoder.onnx',
      url: null,
      sha256: null,
      howToGet:
        'export the image encoder of sam_vit_h_4b8939.pth to ONNX (input [1,3,1024,1024], SAM-normalised; e.g. with samexporter) ' +
        'and save it (with its external data file, if any) as sam_vit_h_4b8939.encoder.onnx in the model folder',
    },
    { file: 'sam_vit_h_4b8939.decoder.onnx', url: `${HF}/Rookiehan/sam/resolve/main/sam_vit_h_4b8939.decoder.onnx`, sha256: null },
  ),
  sam(
    'mobilesam',
    'MobileSAM: TinyViT encoder (5M params) distilled from SAM ViT-H, with the SAM decoder (multi-mask export); HWC 0..255 encoder input',
    'Apache-2.0',
    {
      file: 'mobile_sam_image_encoder.onnx',
      url: `${HF}/Acly/MobileSAM/resolve/0d3b403339b4674a82493d5e97964dd78089ddc8/mobile_sam_image_encoder.onnx`,
      sha256: '580f5fb648ea1062c0aabc26217aed56921985f03f0cbbd852bba81d760cc749',
    },
    {
      file: 'sam_mask_decoder_multi.onnx',
      url: `${HF}/Acly/MobileSAM/resolve/0d3b403339b4674a82493d5e97964dd78089ddc8/sam_mask_decoder_multi.onnx`,
      sha256: '8976b90a87ba50a6a72217a5ff994f7d25ce16f2229fcc1ed259e1294c622ffe',
    },
    BAKED,
  ),
  sam(
    'edgesam',
    'EdgeSAM (3x schedule): RepViT encoder; its decoder takes no mask prompt and returns low-res logits only',
    'S-Lab License 1.0 (non-commercial)',
    { file: 'edge_sam_3x_encoder.onnx', url: `${HF}/spaces/chongzhou/EdgeSAM/resolve/main/weights/edge_sam_3x_encoder.onnx`, sha256: null },
    { file: 'edge_sam_3x_decoder.onnx', url: `${HF}/spaces/chongzhou/EdgeSAM/resolve/main/weights/edge_sam_3x_decoder.onnx`, sha256: null },
    {},
    { outputs: { masks: null, scores: 'scores', lowResMasks: 'masks' } },
  ),
  dinov2('dinov2-vits14', 'DINOv2 ViT-S/14 (384 channels)', `${HF}/Xenova/dinov2-small/resolve/main/onnx/model.onnx`, '83141175ec78b4ff9a2bb58a4c7c264ba0054d1c2e122e5a8114b79a8d4179ea', 0),
  dinov2('dinov2-vitb14', 'DINOv2 ViT-B/14 (768 channels)', `${HF}/onnx-community/dinov2-base/resolve/main/onnx/model.onnx`, null, 0),
  dinov2('dinov2-vitl14', 'DINOv2 ViT-L/14 (1024 channels)', `${HF}/onnx-community/dinov2-large/resolve/main/onnx/model.onnx`, null, 0),
  dinov2(
    'dinov2-vits14-reg',
    'DINOv2 ViT-S/14 with 4 register tokens (384 channels)',
    `${HF}/onnx-community/dinov2-with-registers-small/resolve/ec7abea1a8757ec4f9f7b26399d31234ffaa6e6a/onnx/model.onnx`,
    '815e440d222e60294bb5b165491c4760e7f08dc7ecd2488a5450e93d50887efe',
    4,
  ),
  dinov2('dinov2-vitb14-reg', 'DINOv2 ViT-B/14 with 4 register tokens (768 channels)', `${HF}/onnx-community/dinov2-with-registers-base/resolve/main/onnx/model.onnx`, null, 4),
  dinov2(
    'dinov2-vitl14-reg',
    'DINOv2 ViT-L/14 with 4 register tokens (1024 channels), the feature model of the CryoSAM reference code',
    `${HF}/onnx-community/dinov2-with-registers-large/resolve/e91ea061a0cb94e6bb9d4b6d8d55ba2bba2287d3/onnx/model.onnx`,
    'b6212f2508f883b6f277c53d05b630cf24f7977fd1ab350a25751fdbf2cf233f',
    4,
  ),
];

export function findCatalogEntry(name: string): CatalogEntry | undefined {
  return CATALOG.find((e) => e.name === name);
}
