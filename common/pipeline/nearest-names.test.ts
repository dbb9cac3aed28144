import { describe, expect, it } from 'vitest';
import { nearestNames } from './nearest-names.js';

describe('nearestNames', () => {
  const ops = ['image.decode', 'image.resize', 'image.normalize', 'ocr.boxes', 'ocr.crop', 'ctc.decode', 'fields.drop'];

  it('suggests names within a typo or two, closest first', () => {
    expect(nearestNames('image.resise', ops)).toEqual(['image.resize']);
    expect(nearestNames('imgae.decode', ops)).toEqual(['image.decode']);
    expect(nearestNames('ocr.box', ops)).toEqual(['ocr.boxes']);
    expect(nearestNames('Image.Decode', ops)).toEqual(['image.decode']);
  });

  it('suggests nothing for an unrelated name', () => {
    expect(nearestNames('tokenize', ops)).toEqual([]);
  });
});
