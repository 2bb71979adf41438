//! A tree whose nodes hold Python objects: a value, their parent and their children, in
//! `hpy::Field`s. Parent and child refer to each other, a reference cycle that Python's garbage
//! collector can see (the class macro generates the traverse slot) and collect; each node's
//! Rust `Drop` runs when it dies.
//!
//! The nodes always form a forest: `add_child` refuses to make a node its own ancestor, and a
//! node that gets a new parent leaves its old one, so every node is in its parent's children
//! exactly once. Walks are loops over an explicit stack, never recursion: a tree may be as deep
//! as memory allows.
#![forbid(unsafe_code)]

/// Trees of nodes that hold Python objects.
#[hpy::module]
mod tree {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use hpy::exceptions::ValueError;
    use hpy::{Context, Field, Handle, List, Result};

    /// How many `Node` values exist (incremented by `Node()`, decremented by `Drop`).
    static LIVE_NODES: AtomicUsize = AtomicUsize::new(0);

    /// The number of `Node`s alive: shows that dropped nodes ran their Rust `Drop`.
    #[hpy::function]
    fn live_nodes() -> usize {
        LIVE_NODES.load(Ordering::SeqCst)
    }

    /// A tree node with a name, an arbitrary Python value, a parent and children.
    #[hpy::class(subclass)]
    struct Node {
        /// The node's name.
        #[hpy(get)]
        name: String,
        /// The value, as the one item of a list that nobody else sees. HPy 0.9 frees the objects
        /// in an object's fields without CPython's "trashcan", which frees deeply nested lists
        /// (and tuples, dicts, instances) one level at a time: nodes holding each other directly
        /// as values would be freed by one nested C call per node, and a long enough chain of
        /// them would overflow the C stack. A list between each node and the next brings the
        /// trashcan in.
        value: Field<List>,
        parent: Field<Node>,
        children: Field<List>,
    }

    impl Drop for Node {
        fn drop(&mut self) {
            LIVE_NODES.fetch_sub(1, Ordering::SeqCst);
        }
    }

    impl Node {
        /// The node as its `repr` shows it, for messages.
        fn describe(&self) -> String {
            format!("Node({:?})", self.name)
        }

        /// The children of `node`, pushed onto `pending`.
        fn push_children<'ctx>(node: &Handle<'ctx, Node>, pending: &mut Vec<Handle<'ctx, Node>>) -> Result<()> {
            if let Some(children) = node.borrow()?.children.load(node)? {
                for i in 0..children.len()? {
                    pending.push(children.get_index(i)?.downcast_into::<Node>()?);
                }
            }
            Ok(())
        }

        /// Is `node` an ancestor of `of`? Walks up from `of` and down through `node`'s subtree
        /// in step, and stops when either walk ends: adding a new leaf to a deep chain, or a deep
        /// chain under a new root, costs a step or two, not one per level.
        fn is_ancestor(node: &Handle<'_, Node>, of: &Handle<'_, Node>) -> Result<bool> {
            let mut up = of.borrow()?.parent.load(of)?;
            let mut down = Vec::new();
            Node::push_children(node, &mut down)?;
            loop {
                let Some(ancestor) = up else { return Ok(false) };
                if ancestor.is(node) {
                    return Ok(true);
                }
                up = ancestor.borrow()?.parent.load(&ancestor)?;
                let Some(descendant) = down.pop() else { return Ok(false) };
                if descendant.is(of) {
                    return Ok(true);
                }
                Node::push_children(&descendant, &mut down)?;
            }
        }

        /// Take `child` out of `parent`'s children (by identity: no `__eq__` runs).
        fn remove_child(parent: &Handle<'_, Node>, child: &Handle<'_, Node>) -> Result<()> {
            if let Some(children) = parent.borrow()?.children.load(parent)? {
                for i in 0..children.len()? {
                    if children.get_index(i)?.is(child) {
                        return children.del_item(i);
                    }
                }
            }
            Ok(())
        }
    }

    #[hpy::methods]
    impl Node {
        #[new]
        fn new(name: String) -> Result<Node> {
            if name.is_empty() {
                return Err(ValueError::new_err("a node needs a name"));
            }
            LIVE_NODES.fetch_add(1, Ordering::SeqCst);
            Ok(Node { name, value: Field::new(), parent: Field::new(), children: Field::new() })
        }

        /// The value held by the node (any Python object; None if unset).
        #[getter]
        fn value<'ctx>(slf: &Handle<'ctx, Self>, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
            match slf.borrow()?.value.load(slf)? {
                Some(holder) => holder.get_index(0),
                None => Ok(ctx.none().to_owned().into_any()),
            }
        }

        #[setter]
        fn set_value(slf: &Handle<'_, Self>, value: &Handle<'_>) -> Result<()> {
            let me = slf.borrow()?;
            match me.value.load(slf)? {
                Some(holder) => holder.set_item(0usize, value),
                None => {
                    let holder = slf.ctx().list()?;
                    holder.append(value)?;
                    me.value.store(slf, &holder)
                }
            }
        }

        /// The parent node, or None for a root.
        #[getter]
        fn parent<'ctx>(slf: &Handle<'ctx, Self>) -> Result<Option<Handle<'ctx, Node>>> {
            slf.borrow()?.parent.load(slf)
        }

        /// A new list of the children.
        #[getter]
        fn children<'ctx>(slf: &Handle<'ctx, Self>, ctx: Context<'ctx>) -> Result<Handle<'ctx>> {
            match slf.borrow()?.children.load(slf)? {
                Some(list) => list.call_method("copy", ()),
                None => Ok(ctx.list()?.into_any()),
            }
        }

        /// Make `child` the last child of this node (and this node its parent: a reference
        /// cycle). A child that had a parent, this node included, leaves it first, as with the
        /// DOM's `appendChild`. ValueError if `child` is this node or one of its ancestors.
        fn add_child(slf: &Handle<'_, Self>, child: &Handle<'_, Node>) -> Result<()> {
            if slf.is(child) {
                return Err(ValueError::new_err("a node cannot be its own child"));
            }
            let me = slf.borrow()?;
            if Node::is_ancestor(child, slf)? {
                let (child, me) = (child.borrow()?.describe(), me.describe());
                return Err(ValueError::new_err(format!(
                    "cannot add {child} as a child of {me}: it is an ancestor of {me}"
                )));
            }
            let children = match me.children.load(slf)? {
                Some(list) => list,
                None => {
                    let list = slf.ctx().list()?;
                    me.children.store(slf, &list)?;
                    list
                }
            };
            // Appended before it leaves its old parent: if appending fails, nothing changed.
            children.append(child)?;
            let kid = child.borrow()?;
            if let Some(old_parent) = kid.parent.load(child)? {
                // The first occurrence: when the old parent is this node, the one just appended
                // stays.
                Node::remove_child(&old_parent, child)?;
            }
            kid.parent.store(child, slf)
        }

        /// The number of nodes in this subtree.
        fn size(slf: &Handle<'_, Self>) -> Result<usize> {
            let mut count = 0;
            let mut pending = vec![slf.clone()];
            while let Some(node) = pending.pop() {
                count += 1;
                Node::push_children(&node, &mut pending)?;
            }
            Ok(count)
        }

        /// Make this node a root: it leaves its parent's children (which breaks their reference
        /// cycle by hand).
        fn detach(slf: &Handle<'_, Self>) -> Result<()> {
            let me = slf.borrow()?;
            if let Some(parent) = me.parent.load(slf)? {
                Node::remove_child(&parent, slf)?;
                me.parent.clear(slf)?;
            }
            Ok(())
        }

        fn __len__(slf: &Handle<'_, Self>) -> Result<usize> {
            match slf.borrow()?.children.load(slf)? {
                Some(list) => list.len(),
                None => Ok(0),
            }
        }

        fn __repr__(&self) -> String {
            self.describe()
        }
    }
}
