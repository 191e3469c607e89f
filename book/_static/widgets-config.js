// Loaded on pages with widgets, between RequireJS and the widget manager (nb_ipywidgets_js
// in _config.yml), after the MathJax configuration and before MathJax itself (deferred).
(function () {
  // 1. The manager's webpack public path, where it fetches its icon fonts, is the RequireJS
  //    URL of its own module: point that at the vendored copy (.ci/assets) instead of
  //    <page folder>/@jupyter-widgets/html-manager/dist/.
  require.config({
    paths: {
      "@jupyter-widgets/html-manager/dist":
        document.documentElement.dataset.content_root + "_static/widgets",
    },
  });

  // 2. @jupyter-widgets/base typesets widget labels with the MathJax 2 call
  //    MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]); the book loads MathJax 3,
  //    which has no Hub, so every label threw "reading 'Queue'". Provide a Hub that
  //    typesets with MathJax 3, both on the configuration object (before MathJax loads)
  //    and on the loaded MathJax object (startup.ready).
  var hub = {
    Queue: function (job) {
      var element = job && job[2];
      var mj = window.MathJax;
      if (element && mj && typeof mj.typesetPromise === "function") {
        mj.typesetPromise([element]).catch(function (err) {
          console.warn("MathJax could not typeset a widget label:", err);
        });
      }
    },
  };
  var config = window.MathJax;
  if (config && !config.version) {
    config.Hub = hub;
    config.startup = config.startup || {};
    var ready = config.startup.ready;
    config.startup.ready = function () {
      if (ready) {
        ready();
      } else {
        window.MathJax.startup.defaultReady();
      }
      window.MathJax.Hub = hub;
    };
  }
})();
