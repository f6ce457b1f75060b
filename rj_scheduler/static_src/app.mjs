// Starts GOV.UK Frontend and MOJ Frontend components. Loaded as an external
// module so the Content-Security-Policy can forbid inline script.
import { initAll as initGovuk } from "./govuk-frontend.min.js";
import { initAll as initMoj } from "./moj-frontend.min.js";

document.body.classList.add("js-enabled");
if ("noModule" in HTMLScriptElement.prototype) {
  document.body.classList.add("govuk-frontend-supported");
}
initGovuk();
initMoj();
