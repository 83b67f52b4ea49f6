/**
 * The alarm tone, made with Web Audio (no sound file): two tones alternating twice a second.
 * Browsers start audio only after a user gesture; until then `state` is `blocked` and the banner
 * asks for a click.
 */
export type SirenState = 'off' | 'on' | 'blocked';

export class Siren {
  state: SirenState = 'off';
  private ctx: AudioContext | undefined;
  private osc: OscillatorNode | undefined;
  private gain: GainNode | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private wanted = false;

  /** Call from a user gesture (a click): lets the tone start now or later. */
  unlock(): void {
    this.ctx ??= new AudioContext();
    void this.ctx.resume().then(() => {
      if (this.wanted) this.start();
    });
  }

  set(on: boolean): void {
    this.wanted = on;
    if (on) this.start();
    else this.stop();
  }

  private start(): void {
    if (this.osc) return;
    this.ctx ??= new AudioContext();
    if (this.ctx.state !== 'running') {
      this.state = 'blocked';
      void this.ctx.resume().then(() => this.wanted && this.ctx?.state === 'running' && this.start());
      return;
    }
    this.gain = this.ctx.createGain();
    this.gain.gain.value = 0.25;
    this.gain.connect(this.ctx.destination);
    this.osc = this.ctx.createOscillator();
    this.osc.type = 'square';
    this.osc.frequency.value = 960;
    this.osc.connect(this.gain);
    this.osc.start();
    let high = true;
    this.timer = setInterval(() => {
      high = !high;
      if (this.osc && this.ctx) this.osc.frequency.setValueAtTime(high ? 960 : 770, this.ctx.currentTime);
    }, 250);
    this.state = 'on';
  }

  private stop(): void {
    clearInterval(this.timer);
    this.osc?.stop();
    this.osc?.disconnect();
    this.gain?.disconnect();
    this.osc = undefined;
    this.gain = undefined;
    this.state = 'off';
  }
}
