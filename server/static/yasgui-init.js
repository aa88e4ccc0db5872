// YASGUI on /sparql: one tab per example query (queries/*.rq), talking only to this service.
(function () {
  "use strict";
  var mount = document.getElementById("yasgui");
  if (!mount || typeof Yasgui === "undefined") { return; }
  var endpoint = mount.getAttribute("data-endpoint");
  var examples = JSON.parse(document.getElementById("examples").textContent);
  // The "property" and "class" autocompleters ask a remote vocabulary service: this page talks to no other host.
  Yasgui.Yasqe.defaults.autocompleters = Yasgui.Yasqe.defaults.autocompleters.filter(function (name) {
    return name !== "property" && name !== "class";
  });
  var yasgui = new Yasgui(mount, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    persistenceId: null,          // every visit starts from the examples
    populateFromUrl: false,
    autoAddOnInit: false,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    yasqe: { value: examples.length ? examples[0].query : "" }
  });
  examples.forEach(function (example, index) {
    yasgui.addTab(index === 0, { name: example.name, yasqe: { value: example.query },
                                 requestConfig: { endpoint: endpoint, method: "POST" } });
  });
  var form = document.getElementById("plain-form");
  if (form) { form.hidden = true; }
  window.policykgYasgui = yasgui;
})();
