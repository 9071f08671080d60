// The CSS module's class names, for `tsc` on a checkout where Next has not yet written
// next-env.d.ts (whose `*.module.css` declaration says the same).
declare const styles: Readonly<Record<string, string>>;
export default styles;
