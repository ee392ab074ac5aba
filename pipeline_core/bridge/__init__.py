"""Running the steps of installed stpipe packages (jwst, romancal) as steppe steps.

Packages built on stpipe declare their step classes in the ``stpipe.steps`` entry
point group. steppe's own ``stpipe`` plugin (:mod:`~pipeline_core.bridge.plugin`)
reads that group and registers every class as a plain
:class:`~pipeline_core.plugins.descriptor.StepDescriptor`, in the name of the
package that provides it; nothing of the package is imported until one of its
steps is used. A used class becomes a generated :class:`~pipeline_core.Step`
subclass (:mod:`~pipeline_core.bridge.adapter`), whose parameters come from the
stpipe class's own spec, whose reference files are chosen by steppe, and whose data
cross between steppe's and stdatamodels' models in memory
(:mod:`~pipeline_core.bridge.convert`).

A step that steppe implements itself keeps its plain names (``jump``,
``jwst.jump.jump_step.JumpStep``); ``jwst::jump`` names jwst's.
"""
